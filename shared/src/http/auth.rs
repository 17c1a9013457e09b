//! Extractors for who is calling: [`Principal`] (a live session) and [`ClientInfo`] (address and
//! user agent, for login activity).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::auth::{Principal, authenticate};
use crate::error::AppError;
use crate::state::AppState;

/// The caller's IP address as seen by the edge: set by the local server from the socket and by
/// the Lambda adapter from the API Gateway request context.
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<ClientIp>().map(|c| c.0.clone());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().filter(|c| !c.is_control()).take(300).collect());
        Ok(Self { ip, user_agent })
    }
}

/// The caller's address, when the edge gave one.
pub fn client_ip(parts: &Parts) -> Option<std::net::IpAddr> {
    parts.extensions.get::<ClientIp>().and_then(|c| c.0.parse().ok())
}

pub fn bearer(parts: &Parts) -> Option<&str> {
    bearer_of(&parts.headers)
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// The caller of a request, whatever their session may do.
async fn caller(parts: &mut Parts, state: &AppState) -> Result<Principal, AppError> {
    // A layer that already checked this request's session (idempotency) hands it on, so the
    // session and user are read once per request.
    if let Some(principal) = parts.extensions.get::<Principal>() {
        return Ok(principal.clone());
    }
    let token =
        bearer(parts).ok_or(AppError::Unauthenticated("send an access token: Authorization: Bearer <token>"))?;
    let principal = authenticate(state, token, client_ip(parts)).await?;
    tracing::Span::current().record("user", tracing::field::display(principal.user.id));
    Ok(principal)
}

/// A live session that may do anything its user's rights allow: a session that may only
/// change the password is refused (`403 password-change-required`).
impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = caller(parts, state).await?;
        if principal.password_change_only {
            return Err(AppError::Denied {
                kind: "password-change-required",
                detail: "change your password first: POST /v1/me/password".into(),
            });
        }
        Ok(principal)
    }
}

/// The caller of the password change: any live session, including one that may only change
/// the password. Only `POST /v1/me/password` takes it.
#[derive(Debug)]
pub struct PasswordChanger(pub Principal);

impl FromRequestParts<AppState> for PasswordChanger {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        caller(parts, state).await.map(Self)
    }
}
