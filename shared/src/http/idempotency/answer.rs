//! The answer of a request with an `Idempotency-Key`, kept in the same transaction as the
//! request's effect: once the effect has committed, a retry with the key always gets the first
//! answer, even when the function died or timed out right after the commit.
//!
//! The layer ([`super::layer`]) runs the operation inside a [`Scope`]; an operation that
//! commits with [`commit`] adds the kept answer to its transaction. Operations that do not (reads,
//! refusals before any write) have their answer kept by the layer afterwards, as before.

use std::sync::{Arc, Mutex, PoisonError};

use axum::body::{Body, Bytes, to_bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::{KIND, MAX_STORED_RESPONSE, Record, in_progress};
use crate::error::AppError;
use crate::records::Tx;
use crate::store::{Condition, Item, Key, MAX_TRANSACT_OPS, Store, StoreError, TxOp};

tokio::task_local! {
    static SCOPE: Arc<Scope>;
}

/// The request's key, as the layer claimed it.
#[derive(Debug)]
pub(super) struct Scope {
    pub key: Key,
    /// The version of the placeholder the layer wrote: the kept answer replaces exactly it.
    pub version: u64,
    pub request_hash: String,
    pub started_at: DateTime<Utc>,
    pub expires_at: i64,
    outcome: Mutex<Outcome>,
}

/// What became of the answer inside the operation's transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The operation did not commit through [`commit`]: the layer keeps the answer.
    NotTried,
    /// Committed with the effect.
    Kept,
    /// The transaction surely did not happen.
    Refused,
    /// The store did not say whether it happened: the placeholder stays until its lease ends.
    Unknown,
}

impl Scope {
    pub fn new(key: Key, version: u64, request_hash: String, started_at: DateTime<Utc>, expires_at: i64) -> Self {
        Self { key, version, request_hash, started_at, expires_at, outcome: Mutex::new(Outcome::NotTried) }
    }

    pub fn outcome(&self) -> Outcome {
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, outcome: Outcome) {
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = outcome;
    }

    /// The record of a final answer, replacing the placeholder.
    pub fn answer(&self, status: StatusCode, content_type: Option<String>, body: &[u8]) -> Result<Item, AppError> {
        let record = Record {
            request_hash: self.request_hash.clone(),
            done: true,
            started_at: Some(self.started_at),
            status: status.as_u16(),
            content_type,
            body: String::from_utf8_lossy(body).into_owned(),
        };
        let data = serde_json::to_value(&record).map_err(|e| AppError::Internal(e.into()))?;
        let mut item = Item::new(self.key.clone(), KIND, data).expiring_at(self.expires_at);
        item.version = self.version + 1;
        Ok(item)
    }
}

/// Runs `operation` with `scope` as the request's key.
pub(super) async fn within<F: Future>(scope: Arc<Scope>, operation: F) -> F::Output {
    SCOPE.scope(scope, operation).await
}

/// Whether an answer with this status is kept for retries. A 409 may be a passing conflict (a
/// concurrent update) that a retry should not be stuck with, and 401/403/429/5xx depend on the
/// moment.
pub(super) fn keeps(status: StatusCode) -> bool {
    status.is_success() || matches!(status.as_u16(), 400 | 404 | 422)
}

/// Commits `tx` and answers `answer`. Under an `Idempotency-Key`, the answer is written in the
/// same transaction, so the effect and the answer a retry gets are made together or not at all.
pub async fn commit(mut tx: Tx, store: &dyn Store, answer: impl IntoResponse) -> Result<Response, AppError> {
    let answer = match kept_with(answer.into_response(), tx.len()).await? {
        Keep::No(response) => {
            tx.commit(store).await?;
            return Ok(response);
        }
        Keep::Yes(keep) => keep,
    };
    // Another attempt that took the key over after our lease ended makes this one fail whole.
    tx.push(answer.op(), in_progress());
    let result = tx.run(store).await;
    answer.settle(result.as_ref().err().map(|f| f.maybe_committed));
    result.map_err(|failure| failure.error)?;
    Ok(answer.response())
}

/// [`commit`] for operations that read which conditions failed themselves: `ops` as a plain
/// transaction, the store's own error back. The kept answer is the last operation, after the
/// caller's positions.
pub async fn transact(
    store: &dyn Store,
    mut ops: Vec<TxOp>,
    answer: impl IntoResponse,
) -> Result<Response, StoreError> {
    let answer =
        match kept_with(answer.into_response(), ops.len()).await.map_err(|e| StoreError::Invalid(e.to_string()))? {
            Keep::No(response) => {
                store.transact(ops).await?;
                return Ok(response);
            }
            Keep::Yes(keep) => keep,
        };
    ops.push(answer.op());
    let result = store.transact(ops).await;
    answer.settle(result.as_ref().err().map(StoreError::may_have_committed));
    result?;
    Ok(answer.response())
}

enum Keep {
    /// No key, an answer not kept, or no room: commit as usual.
    No(Response),
    Yes(Box<Kept>),
}

/// An answer to write with the effect.
struct Kept {
    scope: Arc<Scope>,
    parts: axum::http::response::Parts,
    body: Bytes,
    item: Item,
}

impl Kept {
    fn op(&self) -> TxOp {
        TxOp::Put { item: self.item.clone(), condition: Condition::VersionIs(self.scope.version) }
    }

    /// Records what became of the transaction: `None` if it committed, else whether it may have.
    fn settle(&self, failed: Option<bool>) {
        self.scope.set(match failed {
            None => Outcome::Kept,
            Some(true) => Outcome::Unknown,
            Some(false) => Outcome::Refused,
        });
    }

    fn response(self) -> Response {
        Response::from_parts(self.parts, Body::from(self.body))
    }
}

/// Whether `response` is kept in a transaction of `len` operations, and the item it is kept as.
async fn kept_with(response: Response, len: usize) -> Result<Keep, AppError> {
    let scope = SCOPE.try_with(Arc::clone).ok();
    let Some(scope) = scope.filter(|_| keeps(response.status()) && len < MAX_TRANSACT_OPS) else {
        return Ok(Keep::No(response));
    };
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX).await.map_err(|e| AppError::Internal(anyhow::anyhow!("answer body: {e}")))?;
    if body.len() > MAX_STORED_RESPONSE {
        return Ok(Keep::No(Response::from_parts(parts, Body::from(body))));
    }
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let item = scope.answer(parts.status, content_type, &body)?;
    Ok(Keep::Yes(Box::new(Kept { scope, parts, body, item })))
}
