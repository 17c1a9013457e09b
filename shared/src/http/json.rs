//! The JSON body extractor: a clear problem for every way a body can be wrong (not JSON, wrong
//! types, unknown or missing fields, too large, wrong content type).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};

use crate::error::AppError;

/// `Json<T>` with guardpost's error answers. Request types use `#[serde(deny_unknown_fields)]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection_to_error(&rejection)),
        }
    }
}

fn rejection_to_error(rejection: &JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType,
        JsonRejection::JsonDataError(e) => AppError::Malformed(clean(&e.body_text())),
        JsonRejection::JsonSyntaxError(e) => AppError::Malformed(clean(&e.body_text())),
        JsonRejection::BytesRejection(e) if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::PayloadTooLarge
        }
        other => AppError::Malformed(clean(&other.body_text())),
    }
}

/// axum's messages are good but start with a generic phrase; keep the useful part.
fn clean(text: &str) -> String {
    text.replace("Failed to deserialize the JSON body into the target type: ", "")
        .replace("Failed to parse the request body as JSON: ", "invalid JSON: ")
}

/// An optional JSON body: an empty body is `None`; anything else must be JSON of the type.
#[derive(Debug, Clone, Default)]
pub struct OptionalBody<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptionalBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json") || ct.contains("+json"));
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::Malformed(e.body_text())
            }
        })?;
        if bytes.is_empty() {
            return Ok(Self(None));
        }
        if !json {
            return Err(AppError::UnsupportedMediaType);
        }
        serde_json::from_slice(&bytes).map(|v| Self(Some(v))).map_err(|e| AppError::Malformed(e.to_string()))
    }
}

/// For PATCH bodies (JSON merge patch): tells an absent field (`None`, left as it is) from an
/// explicit `null` (`Some(None)`, cleared). Use with `#[serde(default, deserialize_with =
/// "guardpost_shared::http::present")]` on an `Option<Option<T>>`.
pub fn present<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}
