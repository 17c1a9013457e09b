//! Counting a password attempt before the password is checked (so parallel guesses are all
//! counted): against the account (or the unknown login name) and against the client address's
//! bucket, in one transaction written against the versions read, tried again on a race. The
//! rules are `guardpost_shared::auth::attempts`.

use guardpost_shared::auth::attempts::{Bucket, Failures};
use guardpost_shared::domain::{OrgSlug, UserId};
use guardpost_shared::records::{Versioned, item, keys, written_over};
use guardpost_shared::store::{Item, Key, StoreError, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::{Deserialize, Serialize};

const FAILURES_KIND: &str = "login-failures";
const BUCKET_KIND: &str = "address-bucket";
const DEVICES_KIND: &str = "known-devices";
/// Devices remembered per user.
const MAX_DEVICES: usize = 20;

/// What was read of an attempt's counts: the failures and the address's bucket.
pub(crate) type Read = (Option<Versioned<Failures>>, Option<Versioned<Bucket>>);

/// Where an attempt counts.
#[derive(Clone, Debug)]
pub(crate) struct Counter {
    /// The account's failures (a known user), or the login name's (nobody has it).
    pub failures: Key,
    /// The client address's bucket, when the address is known.
    pub bucket: Option<Key>,
}

impl Counter {
    pub fn new(org: &OrgSlug, user: Option<&UserId>, login: &str, address: Option<&str>) -> Self {
        let failures = match user {
            Some(id) => keys::account_failures(org, id),
            None => keys::login_failures(org, login),
        };
        Self { failures, bucket: address.map(|a| keys::address_bucket(org, a)) }
    }

    /// The keys to read with the rest of the request's reads.
    pub fn keys(&self) -> Vec<Key> {
        let mut out = vec![self.failures.clone()];
        out.extend(self.bucket.clone());
        out
    }

    /// What was read of them.
    pub fn read(&self, items: &[Item]) -> AppResult<Read> {
        let find = |key: &Key| items.iter().find(|i| &i.key == key);
        let failures = find(&self.failures).map(|i| i.parse().map(|record| Versioned { record, version: i.version }));
        let bucket = self
            .bucket
            .as_ref()
            .and_then(find)
            .map(|i| i.parse().map(|record| Versioned { record, version: i.version }));
        Ok((failures.transpose()?, bucket.transpose()?))
    }

    /// Counts this attempt, or refuses it: `429 too-many-login-attempts` while the account is
    /// held up (unless `known_device`), `429 too-many-attempts-from-address` when the address's
    /// bucket is empty.
    pub async fn count(
        &self,
        state: &AppState,
        mut failures: Option<Versioned<Failures>>,
        mut bucket: Option<Versioned<Bucket>>,
        known_device: bool,
    ) -> AppResult<()> {
        let limits = state.settings.attempt_limits();
        let window_end = |now: chrono::DateTime<chrono::Utc>| (now + limits.window).timestamp();
        // Logins at once from one address (guards behind a site's one connection at shift change)
        // race for its bucket: each race lost is read again after a short random pause, so a few
        // dozen at once all get through; beyond that the server is busy, not the address guilty.
        for attempt in 0..RACES {
            let now = state.now();
            let current = failures.as_ref().map(|f| f.record.clone()).unwrap_or_default();
            if !known_device && let Some(until) = current.held_until(&limits, now) {
                let retry_after_secs = u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1);
                return Err(AppError::LockedOut { retry_after_secs });
            }
            let mut ops = Vec::with_capacity(2);
            let version = failures.as_ref().map_or(0, |f| f.version);
            let mut counted =
                item(self.failures.clone(), FAILURES_KIND, &current.with(&limits, now))?.expiring_at(window_end(now));
            counted.version = version + 1;
            ops.push(TxOp::put(counted, written_over(version)));
            if let Some(key) = &self.bucket {
                let taken = Bucket::take(bucket.as_ref().map(|b| &b.record), &limits, now)
                    .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;
                let version = bucket.as_ref().map_or(0, |b| b.version);
                let mut it =
                    item(key.clone(), BUCKET_KIND, &taken)?.expiring_at((now + chrono::Duration::hours(1)).timestamp());
                it.version = version + 1;
                ops.push(TxOp::put(it, written_over(version)));
            }
            match state.store.transact(ops).await {
                Ok(()) => return Ok(()),
                Err(StoreError::TransactionCanceled { .. } | StoreError::Conflict) => {
                    tokio::time::sleep(pause(state, attempt)).await;
                    (failures, bucket) = self.read(&state.store.batch_get(&self.keys()).await?)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Busy { retry_after_secs: 1 })
    }
}

/// Races for the counts one attempt may lose before the answer is `503 busy`.
const RACES: u32 = 48;

/// A random pause before trying again, its ceiling doubling from 2 ms to 64 ms.
fn pause(state: &AppState, attempt: u32) -> std::time::Duration {
    let ceiling = 2u64 << attempt.min(5);
    let random = state.random.bytes(2);
    let r = u64::from(u16::from_le_bytes([random[0], random.get(1).copied().unwrap_or(0)]));
    std::time::Duration::from_millis(r % ceiling)
}

/// Hashes of the device tokens a user logged in with (newest first).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct KnownDevices {
    pub hashes: Vec<String>,
}

impl KnownDevices {
    pub fn knows(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| self.hashes.contains(&guardpost_shared::auth::tokens::hash_secret(t)))
    }

    /// The devices with this one first; the item to write.
    pub fn remember(mut self, org: &OrgSlug, user: &UserId, token: &str, version: u64) -> AppResult<TxOp> {
        let hash = guardpost_shared::auth::tokens::hash_secret(token);
        self.hashes.retain(|h| *h != hash);
        self.hashes.insert(0, hash);
        self.hashes.truncate(MAX_DEVICES);
        let mut it = item(keys::known_devices(org, user), DEVICES_KIND, &self)?;
        it.version = version + 1;
        // Two logins of one user at once: the last list wins (a device may be forgotten).
        Ok(TxOp::put(it, guardpost_shared::store::Condition::None))
    }
}
