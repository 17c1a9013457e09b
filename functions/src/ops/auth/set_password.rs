//! `POST /v1/auth/set-password` {token, password}: the link of a welcome or reset email. The
//! token is single use (deleted in the same transaction that sets the password) and expires;
//! every existing session of the user ends.

use axum::extract::State;
use guardpost_shared::auth::password;
use guardpost_shared::domain::Secret;
use guardpost_shared::http::{Body, NoContent, Problem};
use guardpost_shared::notify::render::{PasswordToken, parse_token};
use guardpost_shared::records::user::{self, Credential, User};
use guardpost_shared::records::{Versioned, get, item, keys};
use guardpost_shared::store::{Condition, StoreError, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation =
    Operation { id: "set-password", method: "POST", path: "/v1/auth/set-password", access: Access::Public, router };

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordRequest {
    /// From the emailed link: `{org}.{secret}`.
    pub token: Secret,
    pub password: Secret,
}

#[utoipa::path(post, path = "/v1/auth/set-password", tag = "auth", request_body = SetPasswordRequest,
    responses((status = 204, description = "Password set; log in with it"), (status = 401, description = "Unknown, used or expired link", body = Problem), (status = 422, body = Problem)))]
pub async fn handler(State(state): State<AppState>, Body(req): Body<SetPasswordRequest>) -> AppResult<NoContent> {
    let invalid =
        || AppError::Unauthenticated("this link is not valid: it was already used, has expired, or was mistyped");
    let (org, token_key) = parse_token(req.token.expose()).ok_or_else(invalid)?;
    let token = get::<PasswordToken>(state.store.as_ref(), &token_key).await?.ok_or_else(invalid)?.record;
    let now = state.now();
    if token.expires_at <= now {
        return Err(invalid());
    }
    let Versioned { record: mut user, version } =
        get::<User>(state.store.as_ref(), &keys::user(&org, &token.user_id)).await?.ok_or_else(invalid)?;
    let logins: Vec<&str> =
        [user.username.as_ref().map(|u| u.as_str()), user.email.as_ref().and_then(|e| e.as_str().split('@').next())]
            .into_iter()
            .flatten()
            .collect();
    password::check_policy(req.password.expose(), &logins).map_err(|why| AppError::invalid("password", why))?;
    let hash = password::hash_off_thread(req.password.into_exposed(), state.random.clone()).await?;
    user.sessions_valid_after = now;
    user.updated_at = now;
    let mut user_item = item(keys::user(&org, &user.id), user::KIND, &user)?;
    user_item.version = version + 1;
    let credential = Credential { password_hash: Some(hash), changed_at: now };
    let ops = vec![
        TxOp::Delete { key: token_key, condition: Condition::Exists },
        TxOp::put(item(keys::credential(&org, &user.id), user::CREDENTIAL_KIND, &credential)?, Condition::None),
        TxOp::put(user_item, Condition::VersionIs(version)),
    ];
    match state.store.transact(ops).await {
        Ok(()) => {
            tracing::info!(org = %org, user = %user.id, "password set from an emailed link");
            Ok(NoContent)
        }
        // Someone used the link at the same moment.
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => Err(invalid()),
        Err(e) => Err(e.into()),
    }
}
