//! `POST /v1/auth/logout`: ends the session of a refresh token. Access tokens of that session stop
//! working on their next request (every request re-checks the session).

use axum::extract::State;
use guardpost_shared::auth::RefreshToken;
use guardpost_shared::http::{Body, NoContent, Problem};
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

#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = LogoutRequest,
    responses((status = 204, description = "Session ended"), (status = 401, body = Problem)))]
pub async fn handler(State(state): State<AppState>, Body(req): Body<LogoutRequest>) -> AppResult<NoContent> {
    let invalid = || AppError::Unauthenticated("the refresh token is not valid");
    let token = RefreshToken::parse(&req.refresh_token).ok_or_else(invalid)?;
    let found =
        get::<Session>(state.store.as_ref(), &keys::session(&token.org, &token.session)).await?.ok_or_else(invalid)?;
    let presented = token.hash();
    if found.record.refresh_hash != presented && !found.record.previous_hashes.contains(&presented) {
        return Err(invalid());
    }
    if found.record.revoked_at.is_none() {
        super::refresh::revoke(&state, &token, found.record, found.version, "logout").await?;
    }
    Ok(NoContent)
}
