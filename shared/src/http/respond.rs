//! Success answers other than 200.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::AppError;

/// 201 Created with the new resource as body.
#[derive(Debug)]
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

/// 202 Accepted, no body: the request is taken and will be acted on.
#[derive(Debug)]
pub struct Accepted;

impl IntoResponse for Accepted {
    fn into_response(self) -> Response {
        StatusCode::ACCEPTED.into_response()
    }
}

/// 204 No Content.
#[derive(Debug)]
pub struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// 200 with the record's version as a strong `ETag` (`"<version>"`), for optimistic
/// concurrency: a client sends it back in `If-Match` on the change.
#[derive(Debug)]
pub struct Tagged<T> {
    pub version: u64,
    pub body: T,
}

impl<T: Serialize> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.body).into_response();
        if let Ok(tag) = axum::http::HeaderValue::from_str(&format!("\"{}\"", self.version)) {
            response.headers_mut().insert(axum::http::header::ETAG, tag);
        }
        response
    }
}

/// The version a change is made against, from `If-Match` (required: `428` without it; a value
/// that names no version can never match: `412`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IfMatch(pub u64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IfMatch {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.headers.get(axum::http::header::IF_MATCH).ok_or(AppError::PreconditionRequired)?;
        // Not an ETag this API could have given: a malformed request, not a stale one.
        let malformed = || AppError::Malformed("If-Match must be the ETag a GET answered, e.g. \"3\"".into());
        let text = raw.to_str().map_err(|_| malformed())?.trim();
        let version = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).and_then(|t| t.parse::<u64>().ok());
        version.map(Self).ok_or_else(malformed)
    }
}

/// Parses an id from the path. A malformed id names nothing, so it is "not found", the same
/// answer as an id of another organisation.
pub fn path_id<T>(
    raw: &str,
    what: &'static str,
    parse: impl Fn(&str) -> Result<T, crate::domain::IdError>,
) -> Result<T, AppError> {
    parse(raw).map_err(|_| AppError::NotFound(what))
}
