//! The store port: a narrow single-table interface that both adapters (SQLite for the single
//! process, DynamoDB on AWS) implement with the same semantics. The conformance suite in
//! `shared/tests/conformance.rs` runs the same cases on both.
//!
//! Semantics every adapter keeps:
//! - items are addressed by `(pk, sk)`; two optional global secondary indexes (`gsi1`, `gsi2`);
//! - an item whose `expires_at` (epoch seconds) is not in the future is invisible: reads skip
//!   it and conditions treat it as absent (DynamoDB deletes expired items lazily);
//! - conditional writes fail with [`StoreError::ConditionFailed`]; transactions are
//!   all-or-nothing and report the positions of the operations whose condition failed;
//! - queries read one partition, in sort-key order, a page at a time; a page may hold fewer
//!   items than the limit even when more follow: only a `None` cursor ends the listing.

pub mod counting;
mod cursor;
mod data;
#[cfg(feature = "aws")]
pub mod dynamo;
pub mod lazy;
mod rules;

pub use rules::MAX_ITEM_BYTES;
pub mod sqlite;

use async_trait::async_trait;
use serde_json::Value;

pub use cursor::Cursor;
pub use data::Data;

/// Largest number of operations in one transaction (DynamoDB's limit).
pub const MAX_TRANSACT_OPS: usize = 100;
/// Largest number of keys in one batch get (DynamoDB's limit).
pub const MAX_BATCH_GET: usize = 100;
/// Largest page a query returns.
pub const MAX_PAGE: u32 = 1000;

/// The primary key of an item.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

/// The key of an item in a secondary index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexKey {
    pub pk: String,
    pub sk: String,
}

impl IndexKey {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

/// One stored item. `data` is a JSON object holding the entity's own attributes ([`Data`]);
/// `kind` names the entity type (stream filters select outbox items by it).
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub key: Key,
    pub kind: String,
    pub gsi1: Option<IndexKey>,
    pub gsi2: Option<IndexKey>,
    /// Epoch seconds after which the item is invisible (DynamoDB TTL).
    pub expires_at: Option<i64>,
    /// Optimistic concurrency: callers write `version + 1` on update with
    /// [`Condition::VersionIs`] the version they read.
    pub version: u64,
    pub data: Data,
}

impl Item {
    pub fn new(key: Key, kind: impl Into<String>, data: Value) -> Self {
        Self { key, kind: kind.into(), gsi1: None, gsi2: None, expires_at: None, version: 1, data: Data::Value(data) }
    }

    pub fn with_gsi1(mut self, key: IndexKey) -> Self {
        self.gsi1 = Some(key);
        self
    }

    pub fn with_gsi2(mut self, key: IndexKey) -> Self {
        self.gsi2 = Some(key);
        self
    }

    pub fn expiring_at(mut self, epoch_seconds: i64) -> Self {
        self.expires_at = Some(epoch_seconds);
        self
    }

    /// Decodes `data` into an entity type.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        self.data.parse().map_err(|e| self.corrupt(&e))
    }

    /// [`parse`](Self::parse), keeping the record with the item's text for the next copy of the
    /// item to reuse ([`Data::parse_shared`]): for records read on every request.
    pub fn parse_shared<T: serde::de::DeserializeOwned + Clone + Send + Sync + 'static>(
        &self,
    ) -> Result<T, StoreError> {
        self.data.parse_shared().map_err(|e| self.corrupt(&e))
    }

    fn corrupt(&self, error: &serde_json::Error) -> StoreError {
        StoreError::Corrupt(format!("item {}/{} ({}): {error}", self.key.pk, self.key.sk, self.kind))
    }
}

/// The condition a write or check holds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Write whatever is there.
    None,
    /// The item must not exist (or be expired).
    NotExists,
    /// The item must exist (and not be expired).
    Exists,
    /// The item must exist with exactly this version.
    VersionIs(u64),
}

/// One operation of a transaction.
#[derive(Clone, Debug)]
pub enum TxOp {
    Put { item: Item, condition: Condition },
    Delete { key: Key, condition: Condition },
    Check { key: Key, condition: Condition },
}

impl TxOp {
    pub fn put(item: Item, condition: Condition) -> Self {
        Self::Put { item, condition }
    }
    pub fn key(&self) -> &Key {
        match self {
            Self::Put { item, .. } => &item.key,
            Self::Delete { key, .. } | Self::Check { key, .. } => key,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    Table,
    Gsi1,
    Gsi2,
}

/// Which sort keys of the partition a query reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkRange {
    All,
    Prefix(String),
    /// Inclusive on both ends, as DynamoDB's `BETWEEN`.
    Between(String, String),
}

#[derive(Clone, Debug)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub range: SkRange,
    pub limit: u32,
    pub cursor: Option<Cursor>,
    pub descending: bool,
}

impl Query {
    pub fn table(pk: impl Into<String>) -> Self {
        Self { index: Index::Table, pk: pk.into(), range: SkRange::All, limit: 100, cursor: None, descending: false }
    }
    pub fn gsi1(pk: impl Into<String>) -> Self {
        Self { index: Index::Gsi1, ..Self::table(pk) }
    }
    pub fn gsi2(pk: impl Into<String>) -> Self {
        Self { index: Index::Gsi2, ..Self::table(pk) }
    }
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.range = SkRange::Prefix(prefix.into());
        self
    }
    pub fn between(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.range = SkRange::Between(from.into(), to.into());
        self
    }
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.clamp(1, MAX_PAGE);
        self
    }
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }
}

#[derive(Clone, Debug, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Where the next page starts; `None` when the listing is complete.
    pub cursor: Option<Cursor>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("condition failed")]
    ConditionFailed,
    /// Positions (in the submitted order) of the operations whose condition failed.
    #[error("transaction cancelled: conditions failed at {failed:?}")]
    TransactionCanceled { failed: Vec<usize> },
    /// Another writer touched an item of this transaction at the same time; retry.
    #[error("transaction conflict")]
    Conflict,
    #[error("invalid cursor")]
    InvalidCursor,
    #[error("invalid request to the store: {0}")]
    Invalid(String),
    /// Past DynamoDB's 400 KB item limit (both stores refuse it).
    #[error("item too large: {bytes} bytes")]
    TooLarge { bytes: usize },
    #[error("corrupt item: {0}")]
    Corrupt(String),
    #[error("store unavailable: {0:#}")]
    Unavailable(#[from] anyhow::Error),
}

impl StoreError {
    /// Whether a write that failed with this error may still have been made: a timeout or a
    /// lost connection says nothing of the outcome; every other error is a refusal.
    pub fn may_have_committed(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The single-table store port.
#[async_trait]
pub trait Store: Send + Sync {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>>;
    /// Items that exist, in no particular order; at most [`MAX_BATCH_GET`] keys.
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>>;
    async fn put(&self, item: Item, condition: Condition) -> StoreResult<()>;
    async fn delete(&self, key: &Key, condition: Condition) -> StoreResult<()>;
    /// All-or-nothing; at most [`MAX_TRANSACT_OPS`] operations, each on a distinct item.
    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()>;
    async fn query(&self, query: &Query) -> StoreResult<Page>;
    /// Removes items whose time has passed (they are already invisible to every read), and
    /// says how many. DynamoDB removes them itself (its TTL on `expires_at`): there this does
    /// nothing. `guardpost serve` calls it on a timer.
    async fn purge_expired(&self) -> StoreResult<usize> {
        Ok(0)
    }
}

/// Checks shared by the adapters before a transaction reaches the backend.
pub(crate) fn validate_transaction(ops: &[TxOp]) -> StoreResult<()> {
    if ops.is_empty() || ops.len() > MAX_TRANSACT_OPS {
        return Err(StoreError::Invalid(format!(
            "a transaction holds 1 to {MAX_TRANSACT_OPS} operations, not {}",
            ops.len()
        )));
    }
    let mut keys: Vec<&Key> = ops.iter().map(TxOp::key).collect();
    keys.sort();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(StoreError::Invalid("two operations of one transaction on the same item".into()));
    }
    Ok(())
}

pub(crate) fn validate_batch(keys: &[Key]) -> StoreResult<()> {
    if keys.len() > MAX_BATCH_GET {
        return Err(StoreError::Invalid(format!("a batch get holds at most {MAX_BATCH_GET} keys")));
    }
    Ok(())
}

/// Reads up to `query.limit` items, following the store's cursors when a backend returns a
/// short page (DynamoDB applies its limit before filtering out expired items).
/// Every item the query matches, following cursors to the end (for bounded listings: a user's
/// assignments, an organisation's roles, the organisation directory).
pub async fn read_all(store: &dyn Store, query: &Query) -> StoreResult<Vec<Item>> {
    let mut query = query.clone().limit(MAX_PAGE);
    let mut items = Vec::new();
    loop {
        let page = store.query(&query).await?;
        items.extend(page.items);
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(items),
        }
    }
}

pub async fn read_page(store: &dyn Store, query: &Query) -> StoreResult<Page> {
    let mut q = query.clone();
    let mut items = Vec::new();
    loop {
        let remaining = query.limit.saturating_sub(u32::try_from(items.len()).unwrap_or(u32::MAX));
        q.limit = remaining.max(1);
        let page = store.query(&q).await?;
        items.extend(page.items);
        let full = items.len() >= query.limit as usize;
        match page.cursor {
            Some(cursor) if !full => q.cursor = Some(cursor),
            cursor => return Ok(Page { items, cursor }),
        }
    }
}
