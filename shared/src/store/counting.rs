//! A store wrapper that counts round trips, for the benchmark program and for tests that pin
//! how many calls an operation makes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::{Condition, Item, Key, Page, Query, Store, StoreResult, TxOp};

pub struct CountingStore {
    inner: Arc<dyn Store>,
    calls: AtomicU64,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner, calls: AtomicU64::new(0) }
    }

    /// Round trips since the last call to `take`, resetting the counter.
    pub fn take(&self) -> u64 {
        self.calls.swap(0, Ordering::SeqCst)
    }

    fn tick(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.tick();
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.tick();
        self.inner.batch_get(keys).await
    }
    async fn put(&self, item: Item, condition: Condition) -> StoreResult<()> {
        self.tick();
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> StoreResult<()> {
        self.tick();
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        self.tick();
        self.inner.transact(ops).await
    }
    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.tick();
        self.inner.query(query).await
    }
    async fn purge_expired(&self) -> StoreResult<usize> {
        self.inner.purge_expired().await
    }
}
