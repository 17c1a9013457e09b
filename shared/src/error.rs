//! The application error: what a use case can answer besides success. It is mapped to HTTP in
//! exactly one place, `http::problem`.

use crate::domain::FieldError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The body is not JSON, or not the expected shape (wrong types, unknown or missing fields).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// Well-formed, but some fields are invalid.
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    /// No valid credentials, or a session that is over.
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    /// Login refused: the same answer for unknown users and wrong passwords.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed logins for this login name.
    #[error("too many failed attempts")]
    LockedOut { retry_after_secs: u64 },
    /// Too many login attempts from one address.
    #[error("too many attempts from this address")]
    RateLimited { retry_after_secs: u64 },
    /// The server is at the limit of what it does at once (password hashing); retry shortly.
    #[error("busy")]
    Busy { retry_after_secs: u64 },
    #[error("forbidden")]
    Forbidden,
    /// Forbidden for a reason the caller may know (e.g. not assigned to the site).
    #[error("denied ({kind}): {detail}")]
    Denied { kind: &'static str, detail: String },
    /// The thing does not exist, or exists in another organisation (the same answer).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness or state conflict; `kind` becomes the problem type.
    #[error("conflict ({kind}): {detail}")]
    Conflict { kind: &'static str, detail: String },
    /// A conflict with extra members for the problem body (e.g. where the caller is scheduled).
    #[error("conflict ({kind}): {detail}")]
    ConflictWith { kind: &'static str, detail: String, extra: serde_json::Map<String, serde_json::Value> },
    /// `If-Match` names a version that is no longer the current one.
    #[error("precondition failed: the record changed since it was read")]
    PreconditionFailed,
    /// A change that needs `If-Match` came without it.
    #[error("precondition required: send If-Match")]
    PreconditionRequired,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn conflict(kind: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict { kind, detail: detail.into() }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Invalid(errors)
    }
}

pub type AppResult<T> = Result<T, AppError>;
