//! The store port on an embedded SQLite file, for the single-process server.
//!
//! One table mirrors the DynamoDB item layout; two partial indexes play the GSIs. SQLite
//! compares TEXT with memcmp, i.e. by UTF-8 bytes, exactly as DynamoDB orders string keys, so
//! both adapters return items in the same order.
//!
//! In WAL mode readers never wait for the writer nor for each other: reads run in place on a
//! pool of read connections, each seeing the last commit. Writes go to one
//! writer thread that commits them in groups ([`write`]): one fsync covers every write waiting,
//! and a caller hears back only once its write is on disk. Items read by key are kept between
//! calls ([`cache`]), which holds because one process alone opens the database: a second
//! `SqliteStore` on the same file, in this process or another, is refused.

mod cache;
mod read;
mod write;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use self::cache::ItemCache;
use self::read::{QueryPlan, in_snapshot, read_item};
use self::write::Writer;
use super::rules::{check_key, check_op};
use super::{
    Condition, Item, Key, Page, Query, Store, StoreError, StoreResult, TxOp, validate_batch, validate_transaction,
};
use crate::clock::Clock;

/// How long a writer waits for another connection holding the write lock (the purge's, or a
/// tool such as the `sqlite3` shell opened on the file) before the call fails with `Conflict`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Idle read connections kept open; more are opened when more reads run at once.
const IDLE_READERS: usize = 16;

/// Compiled statements kept per read connection.
const STATEMENTS_KEPT: usize = 64;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    gsi2pk TEXT,
    gsi2sk TEXT,
    expires_at INTEGER,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
";

/// Expired rows removed per statement: each statement holds the write lock briefly.
const PURGE_BATCH: usize = 500;

const COLUMNS: &str = "pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expires_at, version, kind, data";

/// Rows that have not expired at `:now`.
const VISIBLE: &str = "(expires_at IS NULL OR expires_at > :now)";

pub struct SqliteStore {
    readers: Readers,
    writer: Writer,
    cache: Arc<ItemCache>,
    clock: Arc<dyn Clock>,
    /// Held while the store is open: the lock that keeps every other opener out. Declared
    /// after `writer`, so it is released only once the writer has committed its last write.
    _owner: std::fs::File,
}

/// The read connections not in use, and where to open more.
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn take(&self) -> StoreResult<Connection> {
        if let Some(conn) = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop() {
            return Ok(conn);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(db_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
        stable_plans(&conn).map_err(db_err)?;
        // Every query shape stays compiled (rusqlite keeps 16 by default).
        conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
        Ok(conn)
    }

    /// A connection left inside a transaction (a rollback that failed) would go on reading an
    /// old snapshot: it is closed instead.
    fn give_back(&self, conn: Connection) {
        if !conn.is_autocommit() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and its schema.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let owner = take_ownership(path)?;
        let conn =
            Connection::open(path).with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
        configure(&conn).context("cannot configure the SQLite database")?;
        conn.execute_batch(SCHEMA).context("cannot create the SQLite schema")?;
        let cache = Arc::new(ItemCache::default());
        let writer = Writer::start(conn, cache.clone()).context("cannot start the SQLite writer")?;
        let readers = Readers { path: path.to_owned(), idle: Mutex::new(Vec::new()) };
        Ok(Self { readers, writer, cache, clock, _owner: owner })
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// Runs `f` on a read connection, in place: a read is a few microseconds on SQLite's page
    /// cache, less than a hop to the blocking pool and back costs (measured: a quarter of the
    /// server's CPU went to waking threads). The clock is read once per call, so every filter of
    /// one call sees the same instant.
    fn read<T>(&self, f: impl FnOnce(&Connection, i64) -> StoreResult<T>) -> StoreResult<T> {
        let conn = self.readers.take()?;
        let result = f(&conn, self.now());
        self.readers.give_back(conn);
        result
    }
}

/// Locks `<database>.lock` for as long as the store is open. The item cache is exact only if
/// every write goes through this store's writer: a second opener (another `guardpost serve` on
/// the same data directory, `guardpost migrate` or `bootstrap` while the server runs, a second
/// store in the same process) is refused with a clear message instead. The lock is the
/// operating system's (`flock`): it goes with the process, however it ends.
fn take_ownership(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open the lock file {}", Path::new(&lock_path).display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "the database {} is in use by another guardpost store (a running `guardpost serve`?): \
             one process at a time opens it; stop that one first",
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(anyhow::Error::new(e).context(format!("cannot lock {}", Path::new(&lock_path).display())))
        }
    }
}

/// Plans that do not depend on the values bound to a statement (SQLite's query planner
/// stability guarantee). Without it, a cached statement whose bound values the planner looked
/// at (the instant that hides expired rows, a `LIMIT`) is compiled again whenever they change:
/// a third of the instructions of a cheap read went to re-preparing statements
/// (docs/BENCHMARKS.md, "Instructions per request"). Every statement here is a key or index
/// lookup whose plan is the same whatever the values.
fn stable_plans(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map(|_| ())
}

fn configure(conn: &Connection) -> anyhow::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    stable_plans(conn)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        anyhow::bail!("the database refused WAL mode (journal_mode is {mode})");
    }
    // FULL syncs the WAL on every commit: an acknowledged write survives a power cut, as it
    // does on DynamoDB.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        check_key(key)?;
        let mut lookup = self.cache.lookup([key], self.now());
        if let Some(item) = lookup.found.pop() {
            return Ok(Some(item));
        }
        let item = self.read(|conn, now| read_item(conn, key, now))?;
        self.cache.fill(lookup.ticket, item.as_ref());
        Ok(item)
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        validate_batch(keys)?;
        keys.iter().try_for_each(check_key)?;
        // DynamoDB rejects duplicate keys; here they simply collapse to one result.
        let keys: BTreeSet<&Key> = keys.iter().collect();
        // Every key held: the cache holds only items as last committed, so they are one state.
        let lookup = self.cache.lookup(keys.iter().copied(), self.now());
        if lookup.found.len() == keys.len() {
            let mut found = lookup.found;
            found.sort_unstable_by(|a, b| a.key.cmp(&b.key));
            return Ok(found);
        }
        // One missing: all are read in one snapshot, so that the batch never mixes an item
        // from before a transaction with another from after it.
        let read = self.read(|conn, now| {
            in_snapshot(conn, || {
                let mut read = Vec::with_capacity(keys.len());
                for key in &keys {
                    read.extend(read_item(conn, key, now)?);
                }
                Ok(read)
            })
        })?;
        self.cache.fill(lookup.ticket, &read);
        Ok(read)
    }

    async fn put(&self, item: Item, condition: Condition) -> StoreResult<()> {
        self.write_one(TxOp::Put { item, condition }).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> StoreResult<()> {
        self.write_one(TxOp::Delete { key: key.clone(), condition }).await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        validate_transaction(&ops)?;
        ops.iter().try_for_each(check_op)?;
        self.writer.write(ops, self.now()).await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        let plan = QueryPlan::new(query)?;
        self.read(|conn, now| plan.run(conn, now))
    }

    /// On a connection of its own, in batches, on tokio's blocking pool: the writer thread
    /// goes on committing between batches. The item cache forgets what has expired first and
    /// keeps nothing read until the purge ends.
    async fn purge_expired(&self) -> StoreResult<usize> {
        let (path, now) = (self.readers.path.clone(), self.now());
        self.cache.begin_purge(now);
        let purge = move || -> rusqlite::Result<usize> {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            let mut removed = 0;
            loop {
                let n = conn.execute(
                    "DELETE FROM items WHERE (pk, sk) IN \
                     (SELECT pk, sk FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?1 LIMIT ?2)",
                    rusqlite::params![now, PURGE_BATCH],
                )?;
                removed += n;
                if n < PURGE_BATCH {
                    return Ok(removed);
                }
            }
        };
        let purged = tokio::task::spawn_blocking(purge).await;
        self.cache.end_write();
        purged.map_err(|e| StoreError::Unavailable(anyhow::anyhow!("the purge stopped: {e}")))?.map_err(db_err)
    }
}

impl SqliteStore {
    /// A single conditional write is a transaction of one whose failure reads as a plain
    /// condition failure.
    async fn write_one(&self, op: TxOp) -> StoreResult<()> {
        check_op(&op)?;
        match self.writer.write(vec![op], self.now()).await {
            Err(StoreError::TransactionCanceled { .. }) => Err(StoreError::ConditionFailed),
            other => other,
        }
    }
}

/// A busy database means another connection holds the write lock past the busy timeout: the
/// caller may retry, as after a DynamoDB transaction conflict.
fn db_err(error: rusqlite::Error) -> StoreError {
    if is_busy(&error) {
        return StoreError::Conflict;
    }
    StoreError::Unavailable(anyhow::Error::new(error).context("SQLite call failed"))
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(error.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;
    use crate::store::Query;

    /// How often the statements behind reads were compiled again after their first use.
    fn reprepares_after_reads(conn: &Connection) -> i32 {
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute(
            "INSERT INTO items (pk, sk, gsi1pk, gsi1sk, version, kind, data) VALUES ('P', 'S1', 'G', 'a', 1, 'k', '{}'), ('P', 'S2', 'G', 'b', 1, 'k', '{}')",
            [],
        )
        .unwrap();
        let query = |pk: &str, limit| QueryPlan::new(&Query { limit, ..Query::gsi1(pk).prefix("a") }).unwrap();
        let sql = query("G", 10).sql.clone();
        for (i, sk) in ["S1", "S2", "S3", "S1"].into_iter().enumerate() {
            let now = 1_000 + i64::try_from(i).unwrap();
            read_item(conn, &Key::new("P", sk), now).unwrap();
            query(if i % 2 == 0 { "G" } else { "H" }, 10 + u32::try_from(i).unwrap()).run(conn, now).unwrap();
        }
        conn.prepare_cached(&read::READ_ITEM).unwrap().get_status(StatementStatus::RePrepare)
            + conn.prepare_cached(&sql).unwrap().get_status(StatementStatus::RePrepare)
    }

    #[test]
    fn a_snapshot_ends_whether_its_reads_succeed_or_fail() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("db")).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        let seen = in_snapshot(&conn, || {
            assert!(!conn.is_autocommit());
            read_item(&conn, &Key::new("P", "S"), 0)
        });
        assert!(matches!(seen, Ok(None)));
        assert!(conn.is_autocommit());
        let failed: StoreResult<()> = in_snapshot(&conn, || Err(StoreError::Corrupt("a bad row".into())));
        assert!(matches!(failed, Err(StoreError::Corrupt(_))));
        assert!(conn.is_autocommit(), "a failed read must not leave the pooled connection in a transaction");
    }

    /// Another process holds the write lock: a write waits for it (the busy timeout), reads
    /// answer meanwhile.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_answer_while_a_write_waits_for_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(crate::clock::ManualClock::new(chrono::Utc::now()));
        let store = Arc::new(SqliteStore::open(&dir.path().join("db"), clock).unwrap());
        let thing = |sk: &str| Item::new(Key::new("T#1", sk), "thing", serde_json::json!({}));
        store.put(thing("A"), Condition::None).await.unwrap();
        let other = Connection::open(dir.path().join("db")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let writing = tokio::spawn({
            let store = store.clone();
            async move { store.put(thing("B"), Condition::None).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!writing.is_finished(), "the write waits for the lock");
        assert!(store.get(&Key::new("T#1", "A")).await.unwrap().is_some());
        assert!(!writing.is_finished(), "the read did not wait for the write");
        other.execute_batch("COMMIT").unwrap();
        writing.await.unwrap().unwrap();
        assert!(store.get(&Key::new("T#1", "B")).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_second_store_on_the_same_database_is_refused_until_the_first_is_closed() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(crate::clock::ManualClock::new(chrono::Utc::now()));
        let first = SqliteStore::open(&dir.path().join("db"), clock.clone()).unwrap();
        let refused = SqliteStore::open(&dir.path().join("db"), clock.clone()).err().unwrap();
        assert!(refused.to_string().contains("in use by another guardpost store"), "{refused}");
        drop(first);
        assert!(SqliteStore::open(&dir.path().join("db"), clock).is_ok());
    }

    /// Every read that starts after a write was acknowledged sees that write, however reads and
    /// writes interleave with the item cache filling and forgetting.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_never_answers_an_item_older_than_an_acknowledged_write() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(crate::clock::ManualClock::new(chrono::Utc::now()));
        let store = Arc::new(SqliteStore::open(&dir.path().join("db"), clock).unwrap());
        let key = Key::new("T#1", "COUNTER");
        let counter = |version: u64| {
            let mut item = Item::new(key.clone(), "counter", serde_json::json!({ "n": version }));
            item.version = version;
            item
        };
        store.put(counter(1), Condition::NotExists).await.unwrap();
        let acknowledged = Arc::new(AtomicU64::new(1));
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let (store, key, acknowledged) = (store.clone(), key.clone(), acknowledged.clone());
                tokio::spawn(async move {
                    let mut reads = 0;
                    while acknowledged.load(Ordering::SeqCst) < 300 {
                        let floor = acknowledged.load(Ordering::SeqCst);
                        let seen = store.batch_get(std::slice::from_ref(&key)).await.unwrap()[0].version;
                        let single = store.get(&key).await.unwrap().unwrap().version;
                        assert!(
                            seen >= floor && single >= floor,
                            "read {seen}/{single} after {floor} was acknowledged"
                        );
                        reads += 1;
                        tokio::task::yield_now().await;
                    }
                    reads
                })
            })
            .collect();
        for version in 2..=300 {
            store.put(counter(version), Condition::VersionIs(version - 1)).await.unwrap();
            acknowledged.store(version, Ordering::SeqCst);
            tokio::task::yield_now().await;
        }
        for reader in readers {
            assert!(reader.await.unwrap() > 0);
        }
        store.delete(&key, Condition::None).await.unwrap();
        assert!(store.get(&key).await.unwrap().is_none(), "a deleted item is not answered from the cache");
        assert!(store.batch_get(std::slice::from_ref(&key)).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn expired_rows_are_purged_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(crate::clock::ManualClock::new(chrono::Utc::now()));
        let store = SqliteStore::open(&dir.path().join("db"), clock.clone()).unwrap();
        let now = clock.now().timestamp();
        let item = |sk: &str, expires: Option<i64>| {
            let item = Item::new(Key::new("T#1", sk), "thing", serde_json::json!({}));
            match expires {
                Some(t) => item.expiring_at(t),
                None => item,
            }
        };
        for (i, expires) in [Some(now + 60), Some(now + 3600), None].into_iter().enumerate() {
            store.put(item(&format!("A{i}"), expires), Condition::None).await.unwrap();
        }
        // More than one batch of expired rows.
        for i in 0..PURGE_BATCH + 10 {
            store.put(item(&format!("B{i:04}"), Some(now + 1)), Condition::None).await.unwrap();
        }
        assert_eq!(store.purge_expired().await.unwrap(), 0, "nothing has expired yet");
        clock.advance(chrono::Duration::seconds(61));
        assert_eq!(store.purge_expired().await.unwrap(), PURGE_BATCH + 11);
        let conn = Connection::open(dir.path().join("db")).unwrap();
        let left: Vec<String> = conn
            .prepare("SELECT sk FROM items ORDER BY sk")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(left, ["A1", "A2"]);
    }

    #[test]
    fn cached_reads_are_compiled_once_whatever_values_they_are_given() {
        let conn = Connection::open_in_memory().unwrap();
        stable_plans(&conn).unwrap();
        assert_eq!(reprepares_after_reads(&conn), 0);
    }

    #[test]
    fn without_stable_plans_sqlite_compiles_them_again_when_the_values_change() {
        // Why `stable_plans` is set on every connection: SQLite's default.
        let conn = Connection::open_in_memory().unwrap();
        assert!(reprepares_after_reads(&conn) > 0);
    }
}
