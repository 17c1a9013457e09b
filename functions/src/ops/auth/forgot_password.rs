//! `POST /v1/auth/forgot-password` {org, login}: emails a reset link when the login exists and
//! has an email address. The answer is the same either way, so it tells nobody who exists.

use axum::extract::State;
use guardpost_shared::domain::OrgSlug;
use guardpost_shared::http::{Accepted, Body, Problem};
use guardpost_shared::notify::{Message, enqueue};
use guardpost_shared::records::user::LoginName;
use guardpost_shared::records::{get, keys};
use guardpost_shared::{AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "forgot-password",
    method: "POST",
    path: "/v1/auth/forgot-password",
    access: Access::Public,
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordRequest {
    pub org: String,
    /// Email address or username.
    pub login: String,
}

#[utoipa::path(post, path = "/v1/auth/forgot-password", tag = "auth", request_body = ForgotPasswordRequest,
    responses((status = 202, description = "If the login exists and has an email address, a reset link is on its way"), (status = 400, body = Problem)))]
pub async fn handler(State(state): State<AppState>, Body(req): Body<ForgotPasswordRequest>) -> AppResult<Accepted> {
    let login = req.login.trim().to_lowercase();
    let plausible = !login.is_empty() && login.len() <= 254 && !login.chars().any(char::is_control);
    if let (Ok(org), true) = (OrgSlug::parse(&req.org), plausible)
        && let Some(claim) = get::<LoginName>(state.store.as_ref(), &keys::login(&org, &login)).await?
    {
        let message = Message::PasswordReset { user_id: claim.record.user_id };
        let op = enqueue(&org, state.new_ulid().to_string(), message, state.now())?;
        state.store.transact(vec![op]).await?;
        tracing::info!(org = %org, user = %claim.record.user_id, "password reset requested");
    }
    Ok(Accepted)
}
