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

/// Parses an id from the path. A malformed id names nothing, so it is "not found", the same
/// answer as an id of another organisation.
pub fn path_id<T>(
    raw: &str,
    what: &'static str,
    parse: impl Fn(&str) -> Result<T, crate::domain::IdError>,
) -> Result<T, AppError> {
    parse(raw).map_err(|_| AppError::NotFound(what))
}
