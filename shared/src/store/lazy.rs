//! A store opened on its first use: a function that never reads or writes (health) never
//! loads the AWS configuration nor builds a client at start-up.

use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use tokio::sync::OnceCell;

use super::{Condition, Item, Key, Page, Query, Store, StoreError, StoreResult, TxOp};

type Open = Box<dyn Fn() -> BoxFuture<'static, anyhow::Result<Arc<dyn Store>>> + Send + Sync>;

pub struct LazyStore {
    open: Open,
    store: OnceCell<Arc<dyn Store>>,
}

impl LazyStore {
    /// `open` runs on the first call (again on the next call if it failed).
    pub fn new(open: impl Fn() -> BoxFuture<'static, anyhow::Result<Arc<dyn Store>>> + Send + Sync + 'static) -> Self {
        Self { open: Box::new(open), store: OnceCell::new() }
    }

    async fn store(&self) -> StoreResult<&Arc<dyn Store>> {
        self.store.get_or_try_init(|| (self.open)()).await.map_err(StoreError::Unavailable)
    }
}

#[async_trait]
impl Store for LazyStore {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.store().await?.get(key).await
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.store().await?.batch_get(keys).await
    }

    async fn put(&self, item: Item, condition: Condition) -> StoreResult<()> {
        self.store().await?.put(item, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> StoreResult<()> {
        self.store().await?.delete(key, condition).await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        self.store().await?.transact(ops).await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.store().await?.query(query).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::clock::SystemClock;

    #[tokio::test]
    async fn the_store_is_opened_on_first_use_once_and_a_failed_open_is_tried_again() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("lazy.db");
        let opened = Arc::new(AtomicUsize::new(0));
        let counter = opened.clone();
        let lazy = LazyStore::new(move || {
            let path = path.clone();
            let n = counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                anyhow::ensure!(n > 0, "the first open fails");
                let store: Arc<dyn Store> =
                    Arc::new(super::super::sqlite::SqliteStore::open(&path, Arc::new(SystemClock))?);
                Ok(store)
            })
        });
        assert_eq!(opened.load(Ordering::SeqCst), 0, "nothing is opened before the first call");
        let key = Key::new("P", "S");
        assert!(matches!(lazy.get(&key).await, Err(StoreError::Unavailable(_))));
        assert_eq!(lazy.get(&key).await.ok(), Some(None));
        assert_eq!(lazy.query(&Query::table("P")).await.map(|p| p.items.len()).ok(), Some(0));
        assert_eq!(opened.load(Ordering::SeqCst), 2, "opened again after the failure, then kept");
    }
}
