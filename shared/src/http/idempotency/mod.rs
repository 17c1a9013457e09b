//! `Idempotency-Key` on POST: the first request with a key runs and its answer is kept for 24
//! hours; a retry with the same key and body gets that answer again (with
//! `Idempotent-Replayed: true`), a retry with another body is refused, and a retry while the
//! first is still running gets 409. Keys are scoped to the calling user.
//!
//! Only authenticated requests are covered: the answers of login and refresh carry fresh secrets,
//! which are never stored; repeating those calls is harmless.
//!
//! An operation that writes commits through [`commit`], which keeps its answer in the same
//! transaction as its effect ([`answer`]); the layer keeps the other answers after the fact.

mod answer;

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::auth::tokens::hash_secret;
use crate::error::AppError;
use crate::records::keys;
use crate::state::AppState;
use crate::store::{Condition, Item, StoreError};

use self::answer::{Outcome, Scope, keeps};
pub use self::answer::{commit, transact};

pub const HEADER: &str = "idempotency-key";
const KIND: &str = "idempotency";
const KEEP_SECS: i64 = 24 * 3600;
const MAX_STORED_RESPONSE: usize = 256 * 1024;
/// After this long, an unfinished first attempt is taken to have died.
const LEASE_SECS: i64 = 60;

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Record {
    request_hash: String,
    done: bool,
    #[serde(default)]
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    status: u16,
    content_type: Option<String>,
    body: String,
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match run(&state, request, next).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn run(state: &AppState, request: Request, next: Next) -> Result<Response, AppError> {
    if request.method() != Method::POST {
        return Ok(next.run(request).await);
    }
    let Some(raw_key) = request.headers().get(HEADER).cloned() else {
        return Ok(next.run(request).await);
    };
    // Scope to the caller, whose session must be live; requests without one pass through and
    // are refused by the operation (401 before any complaint about the key).
    let (mut parts, body) = request.into_parts();
    let principal = match crate::http::auth::bearer(&parts) {
        Some(token) => crate::auth::authenticate(state, token, crate::http::auth::client_ip(&parts)).await.ok(),
        None => None,
    };
    // A session that may only change its password gets nothing replayed: the operation refuses it.
    let principal = principal.filter(|p| !p.password_change_only);
    let Some(principal) = principal else {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    let key = raw_key.to_str().ok().filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()));
    let Some(key) = key.map(str::to_owned) else {
        return Err(AppError::Malformed("Idempotency-Key must be 1 to 255 visible ASCII characters".into()));
    };
    let (org, user) = (principal.org.clone(), principal.user.id.to_string());
    parts.extensions.insert(principal);
    let bytes = to_bytes(body, state.settings.max_body_bytes).await.map_err(|_| AppError::PayloadTooLarge)?;
    let request_hash = hash_request(parts.uri.path(), &bytes);
    let item_key = keys::idempotency(&org, &user, &hash_secret(&key));

    let now = state.now();
    let mut condition = Condition::NotExists;
    let mut version = 1;
    if let Some(item) = state.store.get(&item_key).await? {
        let record: Record = item.parse()?;
        // A first attempt that died (timeout, crash) leaves its placeholder; after a lease the
        // key may run again instead of answering "in progress" for a day.
        let abandoned =
            !record.done && record.started_at.is_some_and(|t| now - t > chrono::Duration::seconds(LEASE_SECS));
        if !abandoned {
            return replay(&record, &request_hash);
        }
        condition = Condition::VersionIs(item.version);
        version = item.version + 1;
    }
    let expires = state.now().timestamp() + KEEP_SECS;
    let placeholder = Record {
        request_hash: request_hash.clone(),
        done: false,
        started_at: Some(now),
        status: 0,
        content_type: None,
        body: String::new(),
    };
    let mut item = Item::new(
        item_key.clone(),
        KIND,
        serde_json::to_value(&placeholder).map_err(|e| AppError::Internal(e.into()))?,
    )
    .expiring_at(expires);
    item.version = version;
    match state.store.put(item, condition).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => return Err(in_progress()),
        Err(e) => return Err(e.into()),
    }

    let scope = Arc::new(Scope::new(item_key.clone(), version, request_hash, now, expires));
    let response = answer::within(scope.clone(), next.run(Request::from_parts(parts, Body::from(bytes)))).await;
    match scope.outcome() {
        // Kept with the effect; or the store could not say whether the effect happened, and
        // the placeholder holds the key until its lease ends (a retry then replays the kept
        // answer if it did, or runs again if it did not).
        Outcome::Kept | Outcome::Unknown => return Ok(response),
        Outcome::NotTried | Outcome::Refused => {}
    }
    let (parts, body) = response.into_parts();
    let bytes =
        to_bytes(body, usize::MAX).await.map_err(|e| AppError::Internal(anyhow::anyhow!("answer body: {e}")))?;
    // Writes replace our own placeholder only: never a later attempt's.
    let ours = Condition::VersionIs(version);
    if keeps(parts.status) && bytes.len() <= MAX_STORED_RESPONSE {
        let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        // The operation happened: answer it even if keeping the answer failed.
        if let Err(e) = state.store.put(scope.answer(parts.status, content_type, &bytes)?, ours).await {
            tracing::error!(error = %e, "keeping an idempotent answer failed");
        }
    } else if let Err(e) = state.store.delete(&item_key, ours).await {
        // Let a retry run again: the first attempt did not reach a final answer.
        tracing::error!(error = %e, "releasing an idempotency key failed");
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn replay(record: &Record, request_hash: &str) -> Result<Response, AppError> {
    if !record.done {
        return Err(in_progress());
    }
    if record.request_hash != request_hash {
        return Err(AppError::conflict(
            "idempotency-key-reused",
            "This Idempotency-Key was used for a different request; use a new key for a new request.",
        ));
    }
    let status = StatusCode::from_u16(record.status).unwrap_or(StatusCode::OK);
    let mut response = (status, record.body.clone()).into_response();
    let headers = response.headers_mut();
    if let Some(ct) = record.content_type.as_deref().and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(response)
}

fn in_progress() -> AppError {
    AppError::conflict(
        "idempotency-in-progress",
        "A request with this Idempotency-Key is still being processed; retry shortly.",
    )
}

fn hash_request(path: &str, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
