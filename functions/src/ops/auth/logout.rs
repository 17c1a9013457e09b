//! `POST /v1/auth/logout`: ends a session, named by its refresh token in the body or, with no
//! body, by the access token the caller sends (a portal's "Log out" button). Access tokens of
//! that session stop working on their next request (every request re-checks the session).

use axum::extract::State;
use axum::http::HeaderMap;
use guardpost_shared::auth::{RefreshToken, token_subject};
use guardpost_shared::domain::{OrgSlug, SessionId};
use guardpost_shared::http::{NoContent, OptionalBody, Problem, bearer_of};
use guardpost_shared::records::session::Session;
use guardpost_shared::records::{get, keys};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation =
    Operation { id: "logout", method: "POST", path: "/v1/auth/logout", access: Access::Public, router };

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    pub refresh_token: String,
}

#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", security((), ("bearer" = [])),
    request_body(content = Option<LogoutRequest>, description = "The refresh token of the session to end; without a body, the session of the bearer access token ends"),
    responses((status = 204, description = "Session ended"), (status = 401, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    OptionalBody(req): OptionalBody<LogoutRequest>,
) -> AppResult<NoContent> {
    match req {
        Some(req) => by_refresh_token(&state, &req.refresh_token).await?,
        None => by_access_token(&state, &headers).await?,
    }
    Ok(NoContent)
}

async fn by_refresh_token(state: &AppState, raw: &str) -> AppResult<()> {
    let invalid = || AppError::Unauthenticated("the refresh token is not valid");
    let token = RefreshToken::parse(raw).ok_or_else(invalid)?;
    let found =
        get::<Session>(state.store.as_ref(), &keys::session(&token.org, &token.session)).await?.ok_or_else(invalid)?;
    let presented = token.hash();
    if found.record.refresh_hash != presented && !found.record.previous_hashes.contains(&presented) {
        return Err(invalid());
    }
    end(state, &token.org, &token.session, found.record, found.version).await
}

/// The session of a valid access token ends; an ended session stays ended (204 again).
async fn by_access_token(state: &AppState, headers: &HeaderMap) -> AppResult<()> {
    let invalid = || {
        AppError::Unauthenticated(
            "send the refresh token in the body, or an access token: Authorization: Bearer <token>",
        )
    };
    let bearer = bearer_of(headers).ok_or_else(invalid)?;
    let (org, _, session) = token_subject(state, bearer)?;
    let found = get::<Session>(state.store.as_ref(), &keys::session(&org, &session)).await?.ok_or_else(invalid)?;
    end(state, &org, &session, found.record, found.version).await
}

async fn end(state: &AppState, org: &OrgSlug, id: &SessionId, session: Session, version: u64) -> AppResult<()> {
    if session.revoked_at.is_none() {
        super::refresh::revoke(state, org, id, session, version, "logout").await?;
    }
    Ok(())
}
