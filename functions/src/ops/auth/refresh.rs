//! `POST /v1/auth/refresh`: a refresh token for a new access token and a new refresh token. The
//! presented token is retired; presenting a retired one again is treated as theft and ends the
//! whole session.

use axum::Json;
use axum::extract::State;
use guardpost_shared::auth::RefreshToken;
use guardpost_shared::domain::{OrgSlug, SessionId};
use guardpost_shared::http::{Body, Problem};
use guardpost_shared::records::session::Session;
use guardpost_shared::records::user::User;
use guardpost_shared::records::{Versioned, get, keys};
use guardpost_shared::store::{Condition, StoreError};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::TokenResponse;
use super::session::{session_item, tokens};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation =
    Operation { id: "refresh-token", method: "POST", path: "/v1/auth/refresh", access: Access::Public, router };

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

/// How many retired refresh tokens a session remembers for reuse detection.
const REMEMBERED: usize = 50;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem)))]
pub async fn handler(State(state): State<AppState>, Body(req): Body<RefreshRequest>) -> AppResult<Json<TokenResponse>> {
    let invalid = || AppError::Unauthenticated("the refresh token is not valid; log in again");
    let token = RefreshToken::parse(&req.refresh_token).ok_or_else(invalid)?;
    let Some(Versioned { record: mut session, version }) =
        get::<Session>(state.store.as_ref(), &keys::session(&token.org, &token.session)).await?
    else {
        return Err(invalid());
    };
    let now = state.now();
    if !session.is_live(now) {
        return Err(invalid());
    }
    let presented = token.hash();
    if session.previous_hashes.contains(&presented) {
        revoke(&state, &token.org, &token.session, session, version, "refresh token reused").await?;
        tracing::warn!(org = %token.org, session = %token.session, "refresh token reuse: session revoked");
        return Err(AppError::Unauthenticated("this refresh token was already used; the session has been ended"));
    }
    if session.refresh_hash != presented {
        return Err(invalid());
    }
    let user =
        get::<User>(state.store.as_ref(), &keys::user(&token.org, &session.user_id)).await?.ok_or_else(invalid)?.record;
    if !user.may_log_in() || !user.accepts(&session) {
        return Err(invalid());
    }

    let next = RefreshToken::generate(&token.org, &session.id, state.random.as_ref());
    session.previous_hashes.push(std::mem::replace(&mut session.refresh_hash, next.hash()));
    let excess = session.previous_hashes.len().saturating_sub(REMEMBERED);
    session.previous_hashes.drain(..excess);
    session.refreshed_at = now;
    match state.store.put(session_item(&token.org, &session, version + 1)?, Condition::VersionIs(version)).await {
        Ok(()) => Ok(Json(tokens(&state, &token.org, &session, &next)?)),
        // Another refresh with the same token won the race: this one is a reuse, so the session
        // ends (a thief racing the owner gains nothing).
        Err(StoreError::ConditionFailed) => {
            if let Some(now) = get::<Session>(state.store.as_ref(), &keys::session(&token.org, &token.session)).await?
                && now.record.previous_hashes.contains(&presented)
            {
                revoke(&state, &token.org, &token.session, now.record, now.version, "refresh token reused").await?;
            }
            Err(invalid())
        }
        Err(e) => Err(e.into()),
    }
}

/// Ends a session (reuse detected, or logout).
pub(super) async fn revoke(
    state: &AppState,
    org: &OrgSlug,
    session_id: &SessionId,
    mut session: Session,
    version: u64,
    reason: &str,
) -> AppResult<()> {
    session.revoked_at = Some(state.now());
    session.revoked_reason = Some(reason.to_owned());
    match state.store.put(session_item(org, &session, version + 1)?, Condition::VersionIs(version)).await {
        // A concurrent writer changed the session: read it again and retry once.
        Err(StoreError::ConditionFailed) => {
            if let Some(v) = get::<Session>(state.store.as_ref(), &keys::session(org, session_id)).await? {
                let mut s = v.record;
                s.revoked_at = Some(state.now());
                s.revoked_reason = Some(reason.to_owned());
                state.store.put(session_item(org, &s, v.version + 1)?, Condition::VersionIs(v.version)).await?;
            }
            Ok(())
        }
        other => Ok(other?),
    }
}
