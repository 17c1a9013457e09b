//! Faults between the steps of a write, on a real store: the write a test arms goes to the
//! store (or does not), and then the caller hears of a failure, as a Lambda function does when
//! DynamoDB commits and the function times out before the answer comes back.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use guardpost_shared::store::{Condition, Item, Key, Page, Query, Store, StoreError, StoreResult, TxOp};

/// When the armed fault strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The write is made, then the caller gets an error (its answer was lost).
    AfterCommit,
    /// The caller gets an error and the write is not made (the request was lost).
    BeforeCommit,
}

/// A store that passes everything through to the real one, except the next write (a put or a
/// transaction) that puts an item of the armed kind.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    armed: Mutex<Option<(Fault, String)>>,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner, armed: Mutex::new(None) }
    }

    /// Strikes once, at the next write that puts an item of `kind`.
    pub fn arm(&self, fault: Fault, kind: &str) {
        *self.armed.lock().unwrap_or_else(PoisonError::into_inner) = Some((fault, kind.to_owned()));
    }

    /// Whether the armed fault is still waiting for its write.
    pub fn is_armed(&self) -> bool {
        self.armed.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    fn strikes<'a>(&self, mut ops: impl Iterator<Item = &'a TxOp>) -> Option<Fault> {
        let mut armed = self.armed.lock().unwrap_or_else(PoisonError::into_inner);
        let kind = armed.as_ref().map(|(_, kind)| kind.clone())?;
        let hit = ops.any(|op| matches!(op, TxOp::Put { item, .. } if item.kind == kind));
        if hit { armed.take().map(|(fault, _)| fault) } else { None }
    }
}

async fn strike(fault: Option<Fault>, write: impl Future<Output = StoreResult<()>>) -> StoreResult<()> {
    match fault {
        None => write.await,
        Some(Fault::BeforeCommit) => Err(lost("the request")),
        Some(Fault::AfterCommit) => {
            write.await?;
            Err(lost("the answer"))
        }
    }
}

fn lost(what: &str) -> StoreError {
    StoreError::Unavailable(anyhow::anyhow!("injected fault: {what} was lost (a timeout)"))
}

#[async_trait]
impl Store for FaultyStore {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.inner.batch_get(keys).await
    }
    async fn put(&self, item: Item, condition: Condition) -> StoreResult<()> {
        let fault = self.strikes(std::iter::once(&TxOp::put(item.clone(), condition)));
        strike(fault, self.inner.put(item, condition)).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> StoreResult<()> {
        // Deletes put nothing: no armed fault strikes them.
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        let fault = self.strikes(ops.iter());
        strike(fault, self.inner.transact(ops)).await
    }
    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.inner.query(query).await
    }
    async fn purge_expired(&self) -> StoreResult<usize> {
        self.inner.purge_expired().await
    }
}
