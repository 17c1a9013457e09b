//! RFC 9457 problem details: the one place where errors become HTTP status codes. Each problem
//! has a stable `type`; 5xx bodies say nothing of the cause, which is logged instead.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::FieldError;
use crate::error::AppError;
use crate::store::StoreError;

pub const PROBLEM_BASE: &str = "https://guardpost.dev/problems/";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable problem type URI: `https://guardpost.dev/problems/<slug>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field-level errors for `validation-error`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Problem-specific members (RFC 9457 extensions), e.g. `scheduled_site` for
    /// `scheduled-elsewhere`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

fn problem(status: StatusCode, slug: &str, title: &str, detail: Option<String>) -> Problem {
    Problem {
        kind: format!("{PROBLEM_BASE}{slug}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
        extensions: serde_json::Map::new(),
    }
}

impl AppError {
    fn to_problem(&self) -> Problem {
        use StatusCode as S;
        match self {
            Self::Malformed(detail) => {
                problem(S::BAD_REQUEST, "malformed-request", "Malformed request", Some(detail.clone()))
            }
            Self::Invalid(errors) => Problem {
                errors: errors.clone(),
                ..problem(
                    S::UNPROCESSABLE_ENTITY,
                    "validation-error",
                    "Invalid fields",
                    Some(errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")),
                )
            },
            Self::Unauthenticated(why) => {
                problem(S::UNAUTHORIZED, "unauthenticated", "Authentication required", Some((*why).to_owned()))
            }
            Self::InvalidCredentials => problem(
                S::UNAUTHORIZED,
                "invalid-credentials",
                "Invalid credentials",
                Some("The organisation, login or password is wrong, or the account may not log in.".into()),
            ),
            Self::LockedOut { .. } => problem(
                S::TOO_MANY_REQUESTS,
                "too-many-login-attempts",
                "Too many failed login attempts",
                Some("Too many failed attempts for this login; try again later or reset the password.".into()),
            ),
            Self::RateLimited { .. } => problem(
                S::TOO_MANY_REQUESTS,
                "too-many-attempts-from-address",
                "Too many attempts from this address",
                Some("Too many login attempts from your address; wait a moment and try again.".into()),
            ),
            Self::Busy { .. } => problem(
                S::SERVICE_UNAVAILABLE,
                "busy",
                "Busy",
                Some("The server is handling as many logins as it can at once; retry in a moment.".into()),
            ),
            Self::Forbidden => {
                problem(S::FORBIDDEN, "forbidden", "Forbidden", Some("You are not allowed to do this.".into()))
            }
            Self::Denied { kind, detail } => problem(S::FORBIDDEN, kind, "Forbidden", Some(detail.clone())),
            Self::NotFound(what) => problem(S::NOT_FOUND, "not-found", "Not found", Some(format!("No such {what}."))),
            Self::Conflict { kind, detail } => problem(S::CONFLICT, kind, "Conflict", Some(detail.clone())),
            Self::ConflictWith { kind, detail, extra } => {
                Problem { extensions: extra.clone(), ..problem(S::CONFLICT, kind, "Conflict", Some(detail.clone())) }
            }
            Self::PreconditionFailed => problem(
                S::PRECONDITION_FAILED,
                "stale-version",
                "Precondition failed",
                Some("The record changed since you read it: read it again (GET gives the new ETag) and retry.".into()),
            ),
            Self::PreconditionRequired => problem(
                S::PRECONDITION_REQUIRED,
                "if-match-required",
                "Precondition required",
                Some("Send If-Match with the ETag of the version you read (GET answers it).".into()),
            ),
            Self::MethodNotAllowed => problem(S::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed", None),
            Self::PayloadTooLarge => problem(S::PAYLOAD_TOO_LARGE, "payload-too-large", "Payload too large", None),
            Self::UnsupportedMediaType => problem(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                Some("Send JSON with Content-Type: application/json.".into()),
            ),
            Self::Store(
                StoreError::ConditionFailed | StoreError::TransactionCanceled { .. } | StoreError::Conflict,
            ) => problem(
                S::CONFLICT,
                "concurrent-update",
                "Concurrent update",
                Some("Someone else changed this at the same time; read it again and retry.".into()),
            ),
            Self::Store(StoreError::InvalidCursor) => problem(
                S::BAD_REQUEST,
                "invalid-cursor",
                "Invalid cursor",
                Some("The cursor is not one this listing gave out.".into()),
            ),
            Self::Store(StoreError::Unavailable(_)) => {
                problem(S::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable", None)
            }
            Self::Store(StoreError::TooLarge { bytes }) => problem(
                S::UNPROCESSABLE_ENTITY,
                "record-too-large",
                "Record too large",
                Some(format!("This change would make a record of {bytes} bytes; records hold at most 400 KB.")),
            ),
            Self::Store(StoreError::Invalid(_) | StoreError::Corrupt(_)) | Self::Internal(_) => {
                problem(S::INTERNAL_SERVER_ERROR, "internal", "Internal error", None)
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let problem = self.to_problem();
        if problem.status >= 500 {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::info!(problem = %problem.kind, status = problem.status, "request refused");
        }
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(problem)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Self::LockedOut { retry_after_secs }
        | Self::RateLimited { retry_after_secs }
        | Self::Busy { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The answer for a route that does not exist.
pub async fn not_found_fallback() -> AppError {
    AppError::NotFound("route")
}

/// The answer for a route that exists, with another method.
pub async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
