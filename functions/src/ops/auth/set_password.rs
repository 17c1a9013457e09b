//! `POST /v1/auth/set-password` {token, password}: the link of a welcome or reset email. The
//! token is single use (deleted in the same transaction that sets the password) and expires;
//! setting the password moves the credential to a new link generation, so every other link made
//! before (older invitations, resets) stops working too; every existing session of the user ends.

use axum::extract::State;
use guardpost_shared::auth::password;
use guardpost_shared::domain::Secret;
use guardpost_shared::http::{Body, NoContent, Problem};
use guardpost_shared::notify::render::{PasswordToken, parse_token};
use guardpost_shared::records::user::{Credential, User};
use guardpost_shared::records::{get, keys};
use guardpost_shared::store::{Condition, Key, StoreError, TxOp};
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
    /// 10 to 128 characters, not containing the login, and not guessable (zxcvbn score 3 of 4).
    #[schema(value_type = String, format = Password, min_length = 10, max_length = 128)]
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
    let (user_key, credential_key) = (keys::user(&org, &token.user_id), keys::credential(&org, &token.user_id));
    let items = state.store.batch_get(&[user_key.clone(), credential_key.clone()]).await?;
    let versioned = |key: &Key| items.iter().find(|i| &i.key == key).map(|i| (i.version, i));
    let (Some((version, user_item)), Some((credential_version, credential_item))) =
        (versioned(&user_key), versioned(&credential_key))
    else {
        return Err(invalid());
    };
    let (mut user, credential) = (user_item.parse::<User>()?, credential_item.parse::<Credential>()?);
    // A newer invitation, or a password set since, retires every link made before; and no link
    // sets a password on someone who may not log in (inactive, terminated, a revoked client).
    if token.generation != credential.link_generation || !user.may_log_in() {
        return Err(invalid());
    }
    let logins: Vec<&str> =
        [user.username.as_ref().map(|u| u.as_str()), user.email.as_ref().and_then(|e| e.as_str().split('@').next())]
            .into_iter()
            .flatten()
            .collect();
    password::check_policy(req.password.expose(), &logins).map_err(|why| AppError::invalid("password", why))?;
    let hash = password::hash_off_thread(req.password.into_exposed(), state.random.clone(), &state.hashing).await?;
    user.end_sessions(now);
    user.updated_at = now;
    let credential = Credential {
        password_hash: Some(hash),
        changed_at: now,
        must_change: false,
        link_generation: credential.link_generation + 1,
    };
    let ops = vec![
        TxOp::Delete { key: token_key, condition: Condition::Exists },
        TxOp::put(credential.item(&org, &user.id, credential_version + 1)?, Condition::VersionIs(credential_version)),
        TxOp::put(user.item(&org, version + 1)?, Condition::VersionIs(version)),
    ];
    match state.store.transact(ops).await {
        Ok(()) => {
            tracing::info!(org = %org, user = %user.id, "password set from an emailed link");
            Ok(NoContent)
        }
        // Someone used the link, or another one, at the same moment.
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) || failed.contains(&1) => Err(invalid()),
        Err(e) => Err(e.into()),
    }
}
