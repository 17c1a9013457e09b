//! Writes: one thread owns the write connection and commits in groups.
//!
//! Callers queue their writes; the writer takes every write waiting (up to [`MAX_GROUP`]), runs
//! each in a savepoint of one `BEGIN IMMEDIATE` transaction (its conditions checked against the
//! state the writes before it left, exactly as if they had run one after the other), commits
//! once, and only then answers each caller. A write whose condition fails rolls back its
//! savepoint and leaves the others alone. With synchronous FULL the commit is one fsync of the
//! WAL for the whole group, so many concurrent writes cost about one durable commit, and every
//! acknowledged write is on disk.

use std::sync::{Arc, mpsc};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use super::cache::ItemCache;
use super::read::decode_version;
use super::{db_err, is_busy};
use crate::store::{Condition, IndexKey, Key, StoreError, StoreResult, TxOp};

/// Most writes committed together.
const MAX_GROUP: usize = 256;

/// One caller's write: its operations, all or nothing, and where to send the outcome.
struct Job {
    ops: Vec<Prepared>,
    now: i64,
    reply: oneshot::Sender<StoreResult<()>>,
}

/// The queue to the writer thread. Dropping it (with the store) ends the thread once it has
/// committed what was queued, and waits for that: the store's lock on the database is released
/// only after its last write.
pub(super) struct Writer {
    queue: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Writer {
    pub(super) fn start(conn: Connection, cache: Arc<ItemCache>) -> std::io::Result<Self> {
        let (queue, jobs) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("guardpost-sqlite-writer".into())
            .spawn(move || serve(conn, &jobs, &cache))?;
        Ok(Self { queue: Some(queue), thread: Some(thread) })
    }

    /// Applies `ops` all or nothing, once committed to disk. Items are encoded here, on the
    /// caller's thread: the writer thread only runs SQL.
    pub(super) async fn write(&self, ops: Vec<TxOp>, now: i64) -> StoreResult<()> {
        let ops = ops.into_iter().map(Prepared::new).collect::<StoreResult<Vec<_>>>()?;
        let (reply, outcome) = oneshot::channel();
        self.queue.as_ref().ok_or_else(gone)?.send(Job { ops, now, reply }).map_err(|_| gone())?;
        outcome.await.map_err(|_| gone())?
    }
}

fn gone() -> StoreError {
    StoreError::Unavailable(anyhow::anyhow!("the SQLite writer has stopped"))
}

fn serve(mut conn: Connection, jobs: &mpsc::Receiver<Job>, cache: &ItemCache) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // A panic rolls the group back (the transaction is dropped) and its callers hear that
        // the store is unavailable; the writer goes on with the next group.
        // The cache forgets what the group writes before it commits, and keeps nothing read
        // while it commits: no caller can be answered an item as it was before its write.
        cache.begin_write(group.iter().flat_map(|job| job.ops.iter().map(|op| &op.key)));
        let outcomes = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit_group(&mut conn, &group)));
        cache.end_write();
        match outcomes {
            Ok(outcomes) => {
                for (job, outcome) in group.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(_) => drop(group),
        }
    }
}

/// Runs each job in its own savepoint of one transaction and commits them together.
fn commit_group(conn: &mut Connection, group: &[Job]) -> Vec<StoreResult<()>> {
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return every(group, &e),
    };
    let mut outcomes: Vec<StoreResult<()>> = group.iter().map(|job| write_one(&mut tx, job)).collect();
    if let Err(e) = tx.commit() {
        // Nothing of the group is on disk: every caller that thought it had written hears so.
        for (outcome, failed) in outcomes.iter_mut().zip(every(group, &e)) {
            if outcome.is_ok() {
                *outcome = failed;
            }
        }
    }
    outcomes
}

fn every(group: &[Job], error: &rusqlite::Error) -> Vec<StoreResult<()>> {
    group
        .iter()
        .map(|_| {
            Err(if is_busy(error) {
                StoreError::Conflict
            } else {
                StoreError::Unavailable(anyhow::anyhow!("SQLite could not commit: {error}"))
            })
        })
        .collect()
}

/// Evaluates every condition of the job against the state before it, then applies every
/// write, or nothing.
fn write_one(tx: &mut Transaction<'_>, job: &Job) -> StoreResult<()> {
    let savepoint = tx.savepoint().map_err(db_err)?;
    let failed: Vec<usize> = job
        .ops
        .iter()
        .enumerate()
        .map(|(position, op)| Ok((position, holds(op.condition, current_version(&savepoint, &op.key, job.now)?))))
        .collect::<StoreResult<Vec<_>>>()?
        .into_iter()
        .filter(|(_, held)| !held)
        .map(|(position, _)| position)
        .collect();
    if !failed.is_empty() {
        return Err(StoreError::TransactionCanceled { failed });
    }
    for op in &job.ops {
        apply(&savepoint, op)?;
    }
    // Dropping a savepoint rolls it back: an error above undoes this job's writes only.
    savepoint.commit().map_err(db_err)
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

/// An operation ready for SQL: the item's data already encoded.
struct Prepared {
    key: Key,
    condition: Condition,
    write: Write,
}

enum Write {
    Put(Row),
    Delete,
    Check,
}

/// The columns of a stored item but its key.
struct Row {
    gsi1: Option<IndexKey>,
    gsi2: Option<IndexKey>,
    expires_at: Option<i64>,
    version: i64,
    kind: String,
    data: String,
}

impl Prepared {
    fn new(op: TxOp) -> StoreResult<Self> {
        Ok(match op {
            TxOp::Put { item, condition } => {
                let version = i64::try_from(item.version)
                    .map_err(|_| StoreError::Invalid(format!("version {} is too large", item.version)))?;
                let data = item
                    .data
                    .text()
                    .map_err(|e| StoreError::Invalid(format!("item data cannot be encoded: {e}")))?
                    .into_owned();
                let row = Row {
                    gsi1: item.gsi1,
                    gsi2: item.gsi2,
                    expires_at: item.expires_at,
                    version,
                    kind: item.kind,
                    data,
                };
                Self { key: item.key, condition, write: Write::Put(row) }
            }
            TxOp::Delete { key, condition } => Self { key, condition, write: Write::Delete },
            TxOp::Check { key, condition } => Self { key, condition, write: Write::Check },
        })
    }
}

const CURRENT_VERSION: &str =
    "SELECT version FROM items WHERE pk = :pk AND sk = :sk AND (expires_at IS NULL OR expires_at > :now)";
const INSERT: &str = "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expires_at, version, kind, data) \
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const DELETE: &str = "DELETE FROM items WHERE pk = ?1 AND sk = ?2";

fn current_version(tx: &Connection, key: &Key, now: i64) -> StoreResult<Option<u64>> {
    let version: Option<i64> = tx
        .prepare_cached(CURRENT_VERSION)
        .and_then(|mut stmt| {
            stmt.query_row(rusqlite::named_params! {":pk": key.pk, ":sk": key.sk, ":now": now}, |row| row.get(0))
                .optional()
        })
        .map_err(db_err)?;
    version.map(|v| decode_version(key, v)).transpose()
}

fn apply(tx: &Connection, op: &Prepared) -> StoreResult<()> {
    let key = &op.key;
    let done = match &op.write {
        Write::Put(row) => tx.prepare_cached(INSERT).and_then(|mut stmt| {
            let (gsi1pk, gsi1sk) = split_index_key(row.gsi1.as_ref());
            let (gsi2pk, gsi2sk) = split_index_key(row.gsi2.as_ref());
            stmt.execute(rusqlite::params![
                key.pk,
                key.sk,
                gsi1pk,
                gsi1sk,
                gsi2pk,
                gsi2sk,
                row.expires_at,
                row.version,
                row.kind,
                row.data,
            ])
        }),
        Write::Delete => tx.prepare_cached(DELETE).and_then(|mut stmt| stmt.execute(rusqlite::params![key.pk, key.sk])),
        Write::Check => Ok(0),
    };
    done.map(drop).map_err(db_err)
}

fn split_index_key(key: Option<&IndexKey>) -> (Option<&str>, Option<&str>) {
    match key {
        Some(k) => (Some(k.pk.as_str()), Some(k.sk.as_str())),
        None => (None, None),
    }
}
