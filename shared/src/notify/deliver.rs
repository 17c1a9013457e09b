//! The one delivery path. Called with an outbox item's key by the local dispatcher or the
//! notifier Lambda; safe to call any number of times for the same item (at-least-once input).
//!
//! 1. Read the item; skip it unless it is pending and due (or its claim went stale).
//! 2. Claim it: write `sending` against the version read. Of concurrent or replayed calls,
//!    exactly one wins; the others skip. This is what keeps a replayed stream batch from
//!    sending twice.
//! 3. Render and send; record `sent`, or `pending` again with a later `next_attempt_at`
//!    (exponential backoff), or `failed` after the last attempt or a permanent refusal. The
//!    record is written again (a few times, backing off) if writing it fails: a message the
//!    provider accepted and whose `sent` was not recorded would be sent again when its claim
//!    goes stale.
//!
//! Every claim counts (`attempts`), and so does every claim that finds the last one stale
//! (`stale_claims`): a message whose deliveries keep stopping before their outcome is recorded
//! (a deliverer that dies after each send) ends `failed` after `max_stale_claims`, saying so,
//! instead of being sent on every sweep without end. A message failing for now is tried again
//! across invocations with a doubling wait (capped at 15 minutes) for as long as its window
//! lasts (hours for account emails, an hour for alerts), then kept as `failed` with the last
//! error; an administrator may re-send it.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::render::{Context, Rendered, render};
use super::{Mailer, OutboxItem, SendError, SmsSender, Status, enqueue, outbox_key};
use crate::clock::{Clock, Random};
use crate::domain::{OrgSlug, PhoneE164};
use crate::error::AppError;
use crate::records::{Versioned, get, item};
use crate::store::{Condition, Key, Store, StoreError, TxOp};

/// A claim older than this is taken to belong to a deliverer that died.
pub const STALE_CLAIM_SECS: i64 = 120;

#[derive(Clone, Debug)]
pub struct NotifySettings {
    /// Where links in emails point (the portal or the local server).
    pub public_url: String,
    /// First retry after this many seconds, doubling each time up to `max_backoff_secs`.
    pub backoff_secs: i64,
    pub max_backoff_secs: i64,
    /// How long a message is tried for, from when it was queued (or re-sent by an
    /// administrator): an account email (welcome, password link, temporary password) is worth
    /// hours of an outage; an alert is stale after an hour.
    pub account_window_secs: i64,
    pub alert_window_secs: i64,
    /// Deliveries that stopped before recording their outcome (the claim went stale) after which
    /// the message is given up: each of them may have sent it.
    pub max_stale_claims: u32,
    pub sms_per_number_per_hour: u32,
    pub sms_per_org_per_day: u32,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            backoff_secs: 2,
            max_backoff_secs: 15 * 60,
            account_window_secs: 6 * 3600,
            alert_window_secs: 3600,
            max_stale_claims: 3,
            sms_per_number_per_hour: 3,
            sms_per_org_per_day: 500,
        }
    }
}

impl NotifySettings {
    /// How long `message` is worth trying for.
    pub fn window(&self, message: &super::Message) -> Duration {
        use super::Message as M;
        Duration::seconds(match message {
            M::Welcome { .. } | M::TemporaryPassword { .. } | M::PasswordReset { .. } => self.account_window_secs,
            M::UnplannedClockIn { .. } | M::Email { .. } | M::Sms { .. } => self.alert_window_secs,
        })
    }

    /// The wait after the `attempt`th attempt failed for now.
    fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self.backoff_secs.saturating_mul(1 << attempt.saturating_sub(1).min(30));
        Duration::seconds(doubled.min(self.max_backoff_secs))
    }
}

/// What delivery needs: the store, time, randomness and the two senders.
#[derive(Clone)]
pub struct Notifier {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub mailer: Arc<dyn Mailer>,
    pub sms: Arc<dyn SmsSender>,
    pub settings: NotifySettings,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("settings", &self.settings).finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Not pending, not due, or claimed by someone else.
    Skipped,
    /// Failed for now; due again at this time.
    Retrying(DateTime<Utc>),
    Failed,
}

pub async fn deliver(n: &Notifier, org: &OrgSlug, id: &str) -> Result<Outcome, StoreError> {
    let key = outbox_key(org, id);
    let Some(Versioned { record: mut out, version }) = get::<OutboxItem>(n.store.as_ref(), &key).await? else {
        return Ok(Outcome::Skipped);
    };
    let now = n.clock.now();
    // A claim is a lease: while `sending`, `next_attempt_at` is when the claim goes stale, so a
    // deliverer that died mid-send is replaced (the dispatcher and the sweeper look for both).
    let due = matches!(out.status, Status::Pending | Status::Sending) && out.next_attempt_at <= now;
    if !due {
        return Ok(Outcome::Skipped);
    }
    // Still `sending` and due: the last delivery stopped before recording what happened.
    if out.status == Status::Sending {
        out.stale_claims += 1;
    }
    if out.stale_claims >= n.settings.max_stale_claims {
        out.status = Status::Failed;
        out.last_error = Some(format!(
            "given up after {} deliveries stopped before their outcome was recorded (it may have been sent)",
            out.stale_claims
        ));
        match n.store.put(to_item(org, &out, version + 1)?, Condition::VersionIs(version)).await {
            Ok(()) => {}
            // Another deliverer moved it on meanwhile: it is theirs.
            Err(StoreError::ConditionFailed) => return Ok(Outcome::Skipped),
            Err(e) => return Err(e),
        }
        tracing::warn!(org = %org, outbox = %out.id, claims = out.attempts, error = ?out.last_error, "notification given up");
        return Ok(Outcome::Failed);
    }
    out.status = Status::Sending;
    out.claimed_at = Some(now);
    out.next_attempt_at = now + Duration::seconds(STALE_CLAIM_SECS);
    out.attempts += 1;
    match n.store.put(to_item(org, &out, version + 1)?, Condition::VersionIs(version)).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => return Ok(Outcome::Skipped),
        Err(e) => return Err(e),
    }
    let mut version = version + 1;

    let result = attempt(n, org, &mut out, &mut version).await;
    let now = n.clock.now();
    let outcome = match result {
        Ok(provider_id) => {
            out.status = Status::Sent;
            out.sent_at = Some(now);
            out.provider_id = Some(provider_id);
            out.last_error = None;
            Outcome::Sent
        }
        Err(SendError::Temporary(e)) if now + n.settings.backoff(out.attempts) <= window_end(n, &out) => {
            out.status = Status::Pending;
            out.next_attempt_at = now + n.settings.backoff(out.attempts);
            out.last_error = Some(e);
            Outcome::Retrying(out.next_attempt_at)
        }
        Err(SendError::Temporary(e)) => {
            let minutes = n.settings.window(&out.message).num_minutes();
            out.status = Status::Failed;
            out.last_error = Some(format!("gave up after {} attempts over {minutes} minutes: {e}", out.attempts));
            Outcome::Failed
        }
        Err(SendError::Permanent(e)) => {
            out.status = Status::Failed;
            out.last_error = Some(e);
            Outcome::Failed
        }
    };
    record(n, &to_item(org, &out, version + 1)?, version).await?;
    match &outcome {
        Outcome::Failed => {
            tracing::warn!(org = %org, outbox = %out.id, attempts = out.attempts, error = ?out.last_error, "notification failed")
        }
        Outcome::Retrying(at) => {
            tracing::info!(org = %org, outbox = %out.id, attempts = out.attempts, next = %at, "notification will be retried")
        }
        _ => tracing::info!(org = %org, outbox = %out.id, "notification delivered"),
    }
    Ok(outcome)
}

/// When trying `out` stops: its window from when it was queued, or re-sent by an administrator.
fn window_end(n: &Notifier, out: &OutboxItem) -> DateTime<Utc> {
    out.retry_from.unwrap_or(out.created_at) + n.settings.window(&out.message)
}

/// Writes a delivery's outcome over the claim at `version`, trying again after a failure:
/// losing the record of a message the provider accepted means sending it twice.
async fn record(n: &Notifier, item: &crate::store::Item, version: u64) -> Result<(), StoreError> {
    let mut wait = std::time::Duration::from_millis(50);
    let mut tries = 1;
    loop {
        match n.store.put(item.clone(), Condition::VersionIs(version)).await {
            Ok(()) => return Ok(()),
            // Another deliverer took the claim over (ours went stale): the outcome is theirs.
            Err(StoreError::ConditionFailed) => return Err(StoreError::ConditionFailed),
            Err(e) if tries >= RECORD_TRIES => return Err(e),
            Err(e) => {
                tracing::warn!(outbox = %item.key.sk, error = %e, tries, "recording a delivery failed; trying again");
                tokio::time::sleep(wait).await;
                wait *= 2;
                tries += 1;
            }
        }
    }
}

/// Writes of a delivery's outcome before giving up (the claim then goes stale and the message
/// is claimed again, counting towards `max_stale_claims`).
const RECORD_TRIES: u32 = 5;

fn to_item(org: &OrgSlug, out: &OutboxItem, version: u64) -> Result<crate::store::Item, StoreError> {
    out.item(org, version).map_err(|e| StoreError::Invalid(e.to_string()))
}

async fn attempt(n: &Notifier, org: &OrgSlug, out: &mut OutboxItem, version: &mut u64) -> Result<String, SendError> {
    // Recipients resolved by an earlier attempt are told, not resolved again.
    if let Some(recipients) = out.recipients.clone() {
        return fan_out(n, org, &out.id, recipients).await;
    }
    let ctx = Context {
        store: n.store.as_ref(),
        random: n.random.as_ref(),
        now: n.clock.now(),
        public_url: &n.settings.public_url,
    };
    let rendered = render(&ctx, org, &out.message).await.map_err(temporary)?;
    match rendered {
        Rendered::Email(email) => n.mailer.send(&email).await,
        Rendered::Sms { to, text } => {
            let number = PhoneE164::parse(&to).map_err(|_| SendError::Permanent("not an E.164 phone number".into()))?;
            take_sms_allowance(n, org, &number, &out.id).await?;
            n.sms.send(number.as_str(), &text).await
        }
        Rendered::FanOut(recipients) => {
            // Kept on the message before anyone is told: if this attempt stops halfway, the
            // next one tells the same people, each once.
            out.recipients = Some(recipients.clone());
            let item = to_item(org, out, *version + 1).map_err(|e| SendError::Temporary(e.to_string()))?;
            n.store
                .put(item, Condition::VersionIs(*version))
                .await
                .map_err(|e| SendError::Temporary(format!("keeping the recipients: {e}")))?;
            *version += 1;
            fan_out(n, org, &out.id, recipients).await
        }
        Rendered::Nothing(why) => Err(SendError::Permanent(why)),
    }
}

fn temporary(e: AppError) -> SendError {
    SendError::Temporary(e.to_string())
}

/// Each recipient's own message, with an id made of the parent's and the recipient's key, so
/// a repeated fan-out adds nothing and a recipient is never told twice.
async fn fan_out(
    n: &Notifier,
    org: &OrgSlug,
    parent: &str,
    recipients: Vec<super::Recipient>,
) -> Result<String, SendError> {
    let now = n.clock.now();
    let count = recipients.len();
    for recipient in recipients {
        let op = enqueue(org, format!("{parent}-{}", recipient.key), recipient.message, now).map_err(temporary)?;
        let TxOp::Put { item, condition } = op else { continue };
        match n.store.put(item, condition).await {
            Ok(()) | Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(SendError::Temporary(e.to_string())),
        }
    }
    Ok(format!("{count} message(s) queued"))
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Counter {
    count: u32,
}

/// At most `sms_per_number_per_hour` SMS per number per hour and `sms_per_org_per_day` per
/// organisation per day: both counters move together or not at all.
async fn take_sms_allowance(
    n: &Notifier,
    org: &OrgSlug,
    number: &PhoneE164,
    message_id: &str,
) -> Result<(), SendError> {
    let now = n.clock.now();
    // Charged once per message: a retried message finds its marker and is not counted again.
    let marker = Key::new(format!("T#{org}#SMSCHARGE#{message_id}"), "CHARGED");
    if get::<Counter>(n.store.as_ref(), &marker).await.map_err(|e| SendError::Temporary(e.to_string()))?.is_some() {
        return Ok(());
    }
    let hour = Key::new(format!("T#{org}#SMSCOUNT#{}", number.as_str()), now.format("%Y%m%d%H").to_string());
    let day = Key::new(format!("T#{org}#SMSCOUNT#ORG"), now.format("%Y%m%d").to_string());
    let limits =
        [(hour, n.settings.sms_per_number_per_hour, 2 * 3600), (day, n.settings.sms_per_org_per_day, 2 * 86400)];
    for _ in 0..10 {
        let mut ops = Vec::new();
        for (key, limit, keep_secs) in &limits {
            let current =
                get::<Counter>(n.store.as_ref(), key).await.map_err(|e| SendError::Temporary(e.to_string()))?;
            let (count, condition, version) = match &current {
                Some(v) => (v.record.count, Condition::VersionIs(v.version), v.version + 1),
                None => (0, Condition::NotExists, 1),
            };
            if count >= *limit {
                return Err(SendError::Permanent(format!(
                    "SMS limit reached ({limit} per {})",
                    if *keep_secs < 86400 { "number per hour" } else { "organisation per day" }
                )));
            }
            let mut it = item(key.clone(), "sms-counter", &Counter { count: count + 1 })
                .map_err(temporary)?
                .expiring_at((now + Duration::seconds(*keep_secs)).timestamp());
            it.version = version;
            ops.push(TxOp::put(it, condition));
        }
        let charged = item(marker.clone(), "sms-charge", &Counter { count: 1 })
            .map_err(temporary)?
            .expiring_at((now + Duration::days(2)).timestamp());
        ops.push(TxOp::put(charged, Condition::NotExists));
        match n.store.transact(ops).await {
            Ok(()) => return Ok(()),
            // The marker exists: an earlier attempt of this message was charged.
            Err(StoreError::TransactionCanceled { failed }) if failed == [2] => return Ok(()),
            Err(StoreError::TransactionCanceled { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(SendError::Temporary(e.to_string())),
        }
    }
    Err(SendError::Temporary("SMS counters busy".into()))
}
