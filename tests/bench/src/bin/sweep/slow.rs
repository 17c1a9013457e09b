//! The real store and mailbox, each call made as slow as on AWS, and who was reached when.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use guardpost_shared::notify::mailbox::LocalMailbox;
use guardpost_shared::notify::{Email, Mailer, SendError};
use guardpost_shared::store::{Condition, Item, Key, Page, Query, Store, StoreResult, TxOp};

/// A store whose every call first waits `delay`: a DynamoDB round trip.
pub struct SlowStore {
    pub inner: Arc<dyn Store>,
    pub delay: Duration,
}

#[async_trait]
impl Store for SlowStore {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        tokio::time::sleep(self.delay).await;
        self.inner.get(key).await
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        tokio::time::sleep(self.delay).await;
        self.inner.batch_get(keys).await
    }

    async fn put(&self, item: Item, condition: Condition) -> StoreResult<()> {
        tokio::time::sleep(self.delay).await;
        self.inner.put(item, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> StoreResult<()> {
        tokio::time::sleep(self.delay).await;
        self.inner.delete(key, condition).await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        tokio::time::sleep(self.delay).await;
        self.inner.transact(ops).await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        tokio::time::sleep(self.delay).await;
        self.inner.query(query).await
    }
}

/// When an organisation's emails went out.
#[derive(Clone, Copy, Debug)]
pub struct OrgReach {
    pub first: Duration,
    pub last: Duration,
    pub count: usize,
}

#[derive(Debug, Default)]
pub struct Reached {
    pub orgs: HashMap<String, OrgReach>,
    pub sent: usize,
}

/// The local mailbox, each send first waiting `delay` (an SES `SendEmail`), counting what each
/// organisation (the recipient's domain) was sent and when.
pub struct SlowMailer {
    pub inner: LocalMailbox,
    pub delay: Duration,
    pub reached: Arc<Mutex<Reached>>,
    pub start: Instant,
}

#[async_trait]
impl Mailer for SlowMailer {
    async fn send(&self, email: &Email) -> Result<String, SendError> {
        tokio::time::sleep(self.delay).await;
        let id = self.inner.send(email).await?;
        let at = self.start.elapsed();
        let org = email.to.split('@').nth(1).unwrap_or_default().trim_end_matches(".example").to_owned();
        let mut reached = self.reached.lock().map_err(|_| SendError::Permanent("poisoned".into()))?;
        reached.sent += 1;
        let entry = reached.orgs.entry(org).or_insert(OrgReach { first: at, last: at, count: 0 });
        entry.last = at;
        entry.count += 1;
        Ok(id)
    }
}
