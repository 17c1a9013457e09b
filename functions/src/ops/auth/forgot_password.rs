//! `POST /v1/auth/forgot-password` {org, login}: emails a reset link when the login exists and
//! has an email address. The answer is the same either way, so it tells nobody who exists.

use axum::extract::State;
use guardpost_shared::auth::tokens::hash_secret;
use guardpost_shared::domain::OrgSlug;
use guardpost_shared::http::{Accepted, Body, Problem};
use guardpost_shared::notify::{Message, enqueue};
use guardpost_shared::records::user::LoginName;
use guardpost_shared::records::{get, item, keys};
use guardpost_shared::store::{Condition, Key, StoreError, TxOp};
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
    if let (Ok(org), true) = (OrgSlug::parse(&req.org), plausible) {
        let claim = get::<LoginName>(state.store.as_ref(), &keys::login(&org, &login)).await?;
        // One request per login name per 15 minutes, known or not, and the same writes either
        // way (a marker; for a known login also the outbox item), so neither the answer, nor
        // its cost, nor a flood of emails tells anything about who exists.
        let now = state.now();
        let marker = item(
            Key::new(format!("T#{org}#RESETREQUEST#{}", hash_secret(&login)), "REQUEST"),
            "reset-request",
            &serde_json::json!({ "at": now }),
        )?
        .expiring_at((now + chrono::Duration::minutes(15)).timestamp());
        let mut ops = vec![TxOp::put(marker, Condition::NotExists)];
        if let Some(claim) = &claim {
            let message = Message::PasswordReset { user_id: claim.record.user_id };
            ops.push(enqueue(&org, state.new_ulid().to_string(), message, now)?);
        }
        match state.store.transact(ops).await {
            Ok(()) => {
                if let Some(claim) = claim {
                    tracing::info!(org = %org, user = %claim.record.user_id, "password reset requested");
                }
            }
            // Asked again within 15 minutes: the first link is on its way.
            Err(StoreError::TransactionCanceled { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Accepted)
}
