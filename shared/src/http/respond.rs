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

/// The version a change is made against, from `If-Match`: required (`428` without it); a
/// well-formed entity tag that is not one version this API gave (`*`, a weak tag, a list) can
/// never match (`412`); a header that is no entity tag at all is malformed (`400`). The
/// extractor never refuses by itself: the handler asks for [`IfMatch::version`] once the body
/// has been read, so that a malformed body is a 400 whatever the header says.
#[derive(Debug)]
pub struct IfMatch(Result<u64, AppError>);

impl IfMatch {
    pub fn version(self) -> Result<u64, AppError> {
        self.0
    }

    fn parse(raw: Option<&axum::http::HeaderValue>) -> Result<u64, AppError> {
        let raw = raw.ok_or(AppError::PreconditionRequired)?;
        let text = raw.as_bytes().trim_ascii();
        let version = text
            .strip_prefix(b"\"")
            .and_then(|t| t.strip_suffix(b"\""))
            .and_then(|t| std::str::from_utf8(t).ok())
            .and_then(|t| t.parse::<u64>().ok());
        match version {
            Some(version) => Ok(version),
            None if text == b"*" || entity_tags(text) => Err(AppError::PreconditionFailed),
            None => Err(AppError::Malformed("If-Match must be the ETag a GET answered, e.g. \"3\"".into())),
        }
    }
}

/// A comma-separated list of entity tags (`"x"` or `W/"x"`, anything but a quote inside), as
/// RFC 9110 writes them with optional spaces and tabs around the commas.
fn entity_tags(mut rest: &[u8]) -> bool {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    loop {
        rest = &rest[rest.iter().take_while(|b| blank(b)).count()..];
        rest = rest.strip_prefix(b"W/").unwrap_or(rest);
        let Some(inside) = rest.strip_prefix(b"\"") else { return false };
        let Some(end) = inside.iter().position(|b| *b == b'"') else { return false };
        rest = &inside[end + 1..];
        rest = &rest[rest.iter().take_while(|b| blank(b)).count()..];
        match rest.split_first() {
            None => return true,
            Some((b',', next)) => rest = next,
            Some(_) => return false,
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IfMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(Self::parse(parts.headers.get(axum::http::header::IF_MATCH))))
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

#[cfg(test)]
mod tests {
    use axum::extract::FromRequestParts;

    use super::*;

    async fn if_match(value: Option<&str>) -> Result<u64, u16> {
        let mut request = axum::http::Request::builder();
        if let Some(value) = value {
            request = request.header(axum::http::header::IF_MATCH, value);
        }
        let (mut parts, ()) = request.body(()).unwrap_or_default().into_parts();
        let extracted = IfMatch::from_request_parts(&mut parts, &()).await.unwrap_or_else(|never| match never {});
        extracted.version().map_err(|e| axum::response::IntoResponse::into_response(e).status().as_u16())
    }

    #[tokio::test]
    async fn a_version_matches_other_entity_tags_never_do_and_anything_else_is_malformed() {
        assert_eq!(if_match(Some("\"3\"")).await, Ok(3));
        assert_eq!(if_match(None).await, Err(428));
        for never in ["*", "W/\"3\"", "\"3\", \"4\"", "\"abc\"", "W/\",7\" ,\t\"x\""] {
            assert_eq!(if_match(Some(never)).await, Err(412), "{never}");
        }
        for malformed in ["3", "", "\"3", "W/3", "\"3\" \"4\"", "\"3\","] {
            assert_eq!(if_match(Some(malformed)).await, Err(400), "{malformed}");
        }
    }
}
