//! The store port on an embedded SQLite file, for the single-process server.
//!
//! One table mirrors the DynamoDB item layout; two partial indexes play the GSIs. SQLite
//! compares TEXT with memcmp, i.e. by UTF-8 bytes, exactly as DynamoDB orders string keys, so
//! both adapters return items in the same order.
//!
//! One connection behind a mutex: the server is one process and SQLite serialises writers
//! anyway, so a pool would only add lock contention. Calls run on tokio's blocking pool.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, Transaction, TransactionBehavior};

use super::{
    Condition, Cursor, Index, IndexKey, Item, Key, MAX_PAGE, Page, Query, SkRange, Store, StoreError, StoreResult,
    TxOp, validate_batch, validate_transaction,
};
use crate::clock::Clock;

/// DynamoDB's key size limits (bytes), enforced here too so that data written locally would
/// also fit on AWS.
const MAX_PK_BYTES: usize = 2048;
const MAX_SK_BYTES: usize = 1024;

/// How long a writer waits for another process holding the write lock (e.g. a CLI command
/// run next to the server) before the call fails with `Conflict`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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
";

const COLUMNS: &str = "pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expires_at, version, kind, data";

/// Rows that have not expired at `:now`.
const VISIBLE: &str = "(expires_at IS NULL OR expires_at > :now)";

pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    clock: Arc<dyn Clock>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and its schema.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let conn =
            Connection::open(path).with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
        configure(&conn).context("cannot configure the SQLite database")?;
        conn.execute_batch(SCHEMA).context("cannot create the SQLite schema")?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), clock })
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    /// Runs `f` on the connection on the blocking pool, with the clock read once per call so
    /// every condition and filter of one call sees the same instant.
    async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, i64) -> StoreResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let now = self.now();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves no open transaction behind (rusqlite rolls
            // back on drop), so a poisoned connection is still usable.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn, now)
        })
        .await
        .map_err(|e| StoreError::Unavailable(anyhow!("the SQLite task did not complete: {e}")))?
    }
}

fn configure(conn: &Connection) -> anyhow::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    // An in-memory database reports "memory": WAL does not apply there and that is fine.
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
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
        let key = key.clone();
        self.run(move |conn, now| read_item(conn, &key, now)).await
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        validate_batch(keys)?;
        keys.iter().try_for_each(check_key)?;
        // DynamoDB rejects duplicate keys; here they simply collapse to one result.
        let keys: BTreeSet<Key> = keys.iter().cloned().collect();
        self.run(move |conn, now| {
            let mut found = Vec::with_capacity(keys.len());
            for key in &keys {
                found.extend(read_item(conn, key, now)?);
            }
            Ok(found)
        })
        .await
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
        self.run(move |conn, now| write_all(conn, &ops, now)).await
    }

    async fn query(&self, query: &Query) -> StoreResult<Page> {
        let plan = QueryPlan::new(query)?;
        self.run(move |conn, now| plan.run(conn, now)).await
    }
}

impl SqliteStore {
    /// A single conditional write is a transaction of one whose failure reads as a plain
    /// condition failure.
    async fn write_one(&self, op: TxOp) -> StoreResult<()> {
        check_op(&op)?;
        let result = self.run(move |conn, now| write_all(conn, std::slice::from_ref(&op), now)).await;
        match result {
            Err(StoreError::TransactionCanceled { .. }) => Err(StoreError::ConditionFailed),
            other => other,
        }
    }
}

// ---- writes ----

/// Evaluates every condition against the state before the transaction, then applies every
/// write, or nothing. IMMEDIATE takes the write lock up front so that no other process can
/// change an item between the check and the write.
fn write_all(conn: &mut Connection, ops: &[TxOp], now: i64) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_err)?;
    let mut failed = Vec::new();
    for (position, op) in ops.iter().enumerate() {
        let current = current_version(&tx, op.key(), now)?;
        if !holds(condition_of(op), current) {
            failed.push(position);
        }
    }
    if !failed.is_empty() {
        tx.rollback().map_err(db_err)?;
        return Err(StoreError::TransactionCanceled { failed });
    }
    for op in ops {
        apply(&tx, op)?;
    }
    tx.commit().map_err(db_err)
}

fn condition_of(op: &TxOp) -> Condition {
    match op {
        TxOp::Put { condition, .. } | TxOp::Delete { condition, .. } | TxOp::Check { condition, .. } => *condition,
    }
}

/// Whether `condition` holds for an item whose visible version is `current` (`None`: absent
/// or expired).
fn holds(condition: Condition, current: Option<u64>) -> bool {
    match condition {
        Condition::None => true,
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::VersionIs(expected) => current == Some(expected),
    }
}

fn current_version(tx: &Transaction<'_>, key: &Key, now: i64) -> StoreResult<Option<u64>> {
    let sql = format!("SELECT version FROM items WHERE pk = :pk AND sk = :sk AND {VISIBLE}");
    let version: Option<i64> = tx
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_row(rusqlite::named_params! {":pk": key.pk, ":sk": key.sk, ":now": now}, |row| row.get(0))
                .optional()
        })
        .map_err(db_err)?;
    version.map(|v| decode_version(key, v)).transpose()
}

fn apply(tx: &Transaction<'_>, op: &TxOp) -> StoreResult<()> {
    match op {
        TxOp::Put { item, .. } => insert(tx, item),
        TxOp::Delete { key, .. } => remove(tx, key),
        TxOp::Check { .. } => Ok(()),
    }
}

fn insert(tx: &Transaction<'_>, item: &Item) -> StoreResult<()> {
    let version = i64::try_from(item.version)
        .map_err(|_| StoreError::Invalid(format!("version {} is too large", item.version)))?;
    let data = serde_json::to_string(&item.data)
        .map_err(|e| StoreError::Invalid(format!("item data cannot be encoded: {e}")))?;
    let sql = format!("INSERT OR REPLACE INTO items ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    let (gsi1pk, gsi1sk) = split_index_key(item.gsi1.as_ref());
    let (gsi2pk, gsi2sk) = split_index_key(item.gsi2.as_ref());
    tx.prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.execute(rusqlite::params![
                item.key.pk,
                item.key.sk,
                gsi1pk,
                gsi1sk,
                gsi2pk,
                gsi2sk,
                item.expires_at,
                version,
                item.kind,
                data,
            ])
        })
        .map_err(db_err)?;
    Ok(())
}

fn split_index_key(key: Option<&IndexKey>) -> (Option<&str>, Option<&str>) {
    match key {
        Some(k) => (Some(k.pk.as_str()), Some(k.sk.as_str())),
        None => (None, None),
    }
}

fn remove(tx: &Transaction<'_>, key: &Key) -> StoreResult<()> {
    tx.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut stmt| stmt.execute(rusqlite::params![key.pk, key.sk]))
        .map_err(db_err)?;
    Ok(())
}

// ---- reads ----

fn read_item(conn: &Connection, key: &Key, now: i64) -> StoreResult<Option<Item>> {
    let sql = format!("SELECT {COLUMNS} FROM items WHERE pk = :pk AND sk = :sk AND {VISIBLE}");
    let raw = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_row(rusqlite::named_params! {":pk": key.pk, ":sk": key.sk, ":now": now}, RawItem::from_row)
                .optional()
        })
        .map_err(db_err)?;
    raw.map(RawItem::decode).transpose()
}

/// A row as stored, before its JSON and version are checked.
struct RawItem {
    pk: String,
    sk: String,
    gsi1: (Option<String>, Option<String>),
    gsi2: (Option<String>, Option<String>),
    expires_at: Option<i64>,
    version: i64,
    kind: String,
    data: String,
}

impl RawItem {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            pk: row.get(0)?,
            sk: row.get(1)?,
            gsi1: (row.get(2)?, row.get(3)?),
            gsi2: (row.get(4)?, row.get(5)?),
            expires_at: row.get(6)?,
            version: row.get(7)?,
            kind: row.get(8)?,
            data: row.get(9)?,
        })
    }

    fn decode(self) -> StoreResult<Item> {
        let key = Key::new(self.pk, self.sk);
        let version = decode_version(&key, self.version)?;
        let data = serde_json::from_str(&self.data)
            .map_err(|e| StoreError::Corrupt(format!("item {}/{}: data is not JSON: {e}", key.pk, key.sk)))?;
        Ok(Item {
            key,
            kind: self.kind,
            gsi1: join_index_key(self.gsi1),
            gsi2: join_index_key(self.gsi2),
            expires_at: self.expires_at,
            version,
            data,
        })
    }
}

fn join_index_key(parts: (Option<String>, Option<String>)) -> Option<IndexKey> {
    match parts {
        (Some(pk), Some(sk)) => Some(IndexKey { pk, sk }),
        _ => None,
    }
}

fn decode_version(key: &Key, version: i64) -> StoreResult<u64> {
    u64::try_from(version)
        .map_err(|_| StoreError::Corrupt(format!("item {}/{}: negative version {version}", key.pk, key.sk)))
}

// ---- queries ----

/// A query turned into SQL and its parameters, checked before it reaches the blocking pool.
struct QueryPlan {
    sql: String,
    params: Vec<(&'static str, SqlValue)>,
    index: Index,
    limit: usize,
}

impl QueryPlan {
    fn new(query: &Query) -> StoreResult<Self> {
        let (pk_col, sk_col) = columns(query.index);
        let order = if query.descending { "DESC" } else { "ASC" };
        let limit = query.limit.clamp(1, MAX_PAGE);
        check_range(&query.range)?;
        let mut sql = format!("SELECT {COLUMNS} FROM items WHERE {pk_col} = :pk AND {VISIBLE}");
        let mut params: Vec<(&'static str, SqlValue)> = vec![(":pk", SqlValue::Text(query.pk.clone()))];
        push_range(&mut sql, &mut params, sk_col, &query.range);
        if let Some(cursor) = &query.cursor {
            push_cursor(&mut sql, &mut params, query, cursor)?;
        }
        // Ties on an index sort key are broken by the table key, in the same direction, so
        // that a cursor designates one position.
        if query.index == Index::Table {
            sql.push_str(&format!(" ORDER BY sk {order}"));
        } else {
            sql.push_str(&format!(" ORDER BY {sk_col} {order}, pk {order}, sk {order}"));
        }
        // One row more than the page tells whether another page follows.
        sql.push_str(" LIMIT :limit");
        params.push((":limit", SqlValue::Integer(i64::from(limit) + 1)));
        Ok(Self { sql, params, index: query.index, limit: limit as usize })
    }

    fn run(self, conn: &mut Connection, now: i64) -> StoreResult<Page> {
        let mut params: Vec<(&str, &dyn rusqlite::ToSql)> =
            self.params.iter().map(|(name, value)| (*name, value as &dyn rusqlite::ToSql)).collect();
        params.push((":now", &now));
        let raws = conn
            .prepare_cached(&self.sql)
            .and_then(|mut stmt| {
                stmt.query_map(params.as_slice(), RawItem::from_row)?.collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db_err)?;
        let mut items = raws.into_iter().map(RawItem::decode).collect::<StoreResult<Vec<_>>>()?;
        let cursor = if items.len() > self.limit {
            items.truncate(self.limit);
            items.last().map(|item| cursor_at(item, self.index))
        } else {
            None
        };
        Ok(Page { items, cursor })
    }
}

fn columns(index: Index) -> (&'static str, &'static str) {
    match index {
        Index::Table => ("pk", "sk"),
        Index::Gsi1 => ("gsi1pk", "gsi1sk"),
        Index::Gsi2 => ("gsi2pk", "gsi2sk"),
    }
}

fn push_range(sql: &mut String, params: &mut Vec<(&'static str, SqlValue)>, sk_col: &str, range: &SkRange) {
    match range {
        SkRange::All => {}
        SkRange::Prefix(prefix) if prefix.is_empty() => {}
        SkRange::Prefix(prefix) => {
            sql.push_str(&format!(" AND {sk_col} >= :lo"));
            params.push((":lo", SqlValue::Text(prefix.clone())));
            // A prefix made only of U+10FFFF has no upper bound: everything from it on matches.
            if let Some(upper) = prefix_upper_bound(prefix) {
                sql.push_str(&format!(" AND {sk_col} < :hi"));
                params.push((":hi", SqlValue::Text(upper)));
            }
        }
        SkRange::Between(from, to) => {
            sql.push_str(&format!(" AND {sk_col} BETWEEN :lo AND :hi"));
            params.push((":lo", SqlValue::Text(from.clone())));
            params.push((":hi", SqlValue::Text(to.clone())));
        }
    }
}

/// The smallest string greater than every string that starts with `prefix`: the prefix with
/// its last character replaced by the next code point. UTF-8 byte order is code-point order,
/// so this is exact under SQLite's memcmp comparison, unlike appending a high character.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = next_char(last) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn next_char(c: char) -> Option<char> {
    let next = u32::from(c) + 1;
    // The surrogate block holds no characters: U+D7FF is followed by U+E000.
    let next = if next == 0xD800 { 0xE000 } else { next };
    char::from_u32(next)
}

/// Continues after the cursor's position, in the query's direction.
fn push_cursor(
    sql: &mut String,
    params: &mut Vec<(&'static str, SqlValue)>,
    query: &Query,
    cursor: &Cursor,
) -> StoreResult<()> {
    let position = cursor_position(query, cursor)?;
    let op = if query.descending { "<" } else { ">" };
    match position {
        Position::Table { sk } => {
            sql.push_str(&format!(" AND sk {op} :csk"));
            params.push((":csk", SqlValue::Text(sk)));
        }
        Position::Index { isk, pk, sk } => {
            let (_, sk_col) = columns(query.index);
            sql.push_str(&format!(" AND ({sk_col}, pk, sk) {op} (:cisk, :cpk, :csk)"));
            params.push((":cisk", SqlValue::Text(isk)));
            params.push((":cpk", SqlValue::Text(pk)));
            params.push((":csk", SqlValue::Text(sk)));
        }
    }
    Ok(())
}

// ---- port rules, shared with the DynamoDB adapter so both enforce them identically ----

pub(super) enum Position {
    Table { sk: String },
    Index { isk: String, pk: String, sk: String },
}

/// A cursor is only valid for the partition (and, being the key of a returned item, the
/// sort-key range) of the query that produced it.
pub(super) fn cursor_position(query: &Query, cursor: &Cursor) -> StoreResult<Position> {
    let position = match (query.index, &cursor.ipk, &cursor.isk) {
        (Index::Table, None, None) if cursor.pk == query.pk => Position::Table { sk: cursor.sk.clone() },
        (Index::Gsi1 | Index::Gsi2, Some(ipk), Some(isk)) if *ipk == query.pk => {
            Position::Index { isk: isk.clone(), pk: cursor.pk.clone(), sk: cursor.sk.clone() }
        }
        _ => return Err(StoreError::InvalidCursor),
    };
    let sort_key = match &position {
        Position::Table { sk } => sk,
        Position::Index { isk, .. } => isk,
    };
    if cursor.pk.is_empty() || cursor.sk.is_empty() || !in_range(&query.range, sort_key) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(position)
}

/// DynamoDB refuses a `BETWEEN` whose bounds are out of order.
pub(super) fn check_range(range: &SkRange) -> StoreResult<()> {
    match range {
        SkRange::Between(from, to) if from > to => {
            Err(StoreError::Invalid("a sort-key range must not end before it starts".into()))
        }
        _ => Ok(()),
    }
}

fn in_range(range: &SkRange, sort_key: &str) -> bool {
    match range {
        SkRange::All => true,
        SkRange::Prefix(prefix) => sort_key.starts_with(prefix.as_str()),
        SkRange::Between(from, to) => from.as_str() <= sort_key && sort_key <= to.as_str(),
    }
}

pub(super) fn cursor_at(item: &Item, index: Index) -> Cursor {
    let index_key = match index {
        Index::Table => None,
        Index::Gsi1 => item.gsi1.as_ref(),
        Index::Gsi2 => item.gsi2.as_ref(),
    };
    Cursor {
        pk: item.key.pk.clone(),
        sk: item.key.sk.clone(),
        ipk: index_key.map(|k| k.pk.clone()),
        isk: index_key.map(|k| k.sk.clone()),
    }
}

/// DynamoDB refuses empty and oversized key attributes; refusing them here too keeps data
/// portable between the stores.
pub(super) fn check_key(key: &Key) -> StoreResult<()> {
    check_key_parts("key", &key.pk, &key.sk)
}

fn check_key_parts(what: &str, pk: &str, sk: &str) -> StoreResult<()> {
    if pk.is_empty() || sk.is_empty() {
        return Err(StoreError::Invalid(format!("{what} attributes must not be empty")));
    }
    if pk.len() > MAX_PK_BYTES || sk.len() > MAX_SK_BYTES {
        return Err(StoreError::Invalid(format!(
            "{what} too long (partition key at most {MAX_PK_BYTES} bytes, sort key {MAX_SK_BYTES})"
        )));
    }
    Ok(())
}

pub(super) fn check_op(op: &TxOp) -> StoreResult<()> {
    match op {
        TxOp::Put { item, .. } => check_item(item),
        TxOp::Delete { key, .. } | TxOp::Check { key, .. } => check_key(key),
    }
}

pub(super) fn check_item(item: &Item) -> StoreResult<()> {
    check_key(&item.key)?;
    for (what, index_key) in [("GSI1 key", &item.gsi1), ("GSI2 key", &item.gsi2)] {
        if let Some(k) = index_key {
            check_key_parts(what, &k.pk, &k.sk)?;
        }
    }
    Ok(())
}

/// A busy database means another process holds the write lock past the busy timeout: the
/// caller may retry, as after a DynamoDB transaction conflict.
fn db_err(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Conflict,
        _ => StoreError::Unavailable(anyhow::Error::new(error).context("SQLite call failed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_upper_bound_is_the_next_string_after_the_prefix() {
        assert_eq!(prefix_upper_bound("T#a").as_deref(), Some("T#b"));
        assert_eq!(prefix_upper_bound("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
    }
}
