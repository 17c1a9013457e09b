//! The answer of a request with an `Idempotency-Key`, kept in the same transaction as the
//! request's effect: once the effect has committed, a retry with the key always gets the first
//! answer, even when the function died or timed out right after the commit.
//!
//! The layer ([`super::layer`]) runs the operation inside a [`Scope`]; an operation that
//! commits with [`commit`] adds the kept answer to its transaction. Operations that do not (reads,
//! refusals before any write) have their answer kept by the layer afterwards, as before.

use std::sync::{Arc, Mutex, PoisonError};

use axum::body::{Body, to_bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::{KIND, MAX_STORED_RESPONSE, Record, in_progress};
use crate::error::AppError;
use crate::records::Tx;
use crate::store::{Condition, Item, Key, MAX_TRANSACT_OPS, Store, TxOp};

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
    let response = answer.into_response();
    let scope = SCOPE.try_with(Arc::clone).ok();
    let Some(scope) = scope.filter(|_| keeps(response.status()) && tx.len() < MAX_TRANSACT_OPS) else {
        tx.commit(store).await?;
        return Ok(response);
    };
    let (parts, body) = response.into_parts();
    let bytes =
        to_bytes(body, usize::MAX).await.map_err(|e| AppError::Internal(anyhow::anyhow!("answer body: {e}")))?;
    if bytes.len() > MAX_STORED_RESPONSE {
        tx.commit(store).await?;
        return Ok(Response::from_parts(parts, Body::from(bytes)));
    }
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let kept = scope.answer(parts.status, content_type, &bytes)?;
    // Another attempt that took the key over after our lease ended makes this one fail whole.
    tx.push(TxOp::Put { item: kept, condition: Condition::VersionIs(scope.version) }, in_progress());
    match tx.run(store).await {
        Ok(()) => {
            scope.set(Outcome::Kept);
            Ok(Response::from_parts(parts, Body::from(bytes)))
        }
        Err(failure) => {
            scope.set(if failure.maybe_committed { Outcome::Unknown } else { Outcome::Refused });
            Err(failure.error)
        }
    }
}
