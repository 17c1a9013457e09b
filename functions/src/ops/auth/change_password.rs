//! `POST /v1/me/password` {current_password, new_password}: the caller changes their own
//! password. It is the one operation a session that may only change the password can call (a
//! user whose password was set or reset by someone else, with "force change"). Every session of
//! the user ends, this one included, and the answer is a fresh full session; the credential
//! moves to a new link generation, so emailed links made before stop working.
//!
//! A wrong current password counts against the login like a failed login (counted before it is
//! checked), so a stolen access token cannot be used to guess it.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::{Permission, authorize_self};
use guardpost_shared::auth::password;
use guardpost_shared::domain::Secret;
use guardpost_shared::http::{Body, ClientInfo, PasswordChanger, Problem};
use guardpost_shared::records::user::{Credential, User};
use guardpost_shared::records::{Versioned, keys};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::TokenResponse;
use super::attempts::Counter;
use super::session::{new_session, session_item, tokens};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "change-my-password",
    method: "POST",
    path: "/v1/me/password",
    access: Access::Requires(Permission::SELF_READ),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: Secret,
    /// 10 to 128 characters, other than the current one, not containing the login, and not
    /// guessable (zxcvbn score 3 of 4).
    #[schema(value_type = String, format = Password, min_length = 10, max_length = 128)]
    pub new_password: Secret,
}

#[utoipa::path(post, path = "/v1/me/password", tag = "me", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Password changed: every session ended, and this new one started", body = TokenResponse),
        (status = 403, description = "The current password is wrong (`wrong-password`)", body = Problem),
        (status = 422, body = Problem),
        (status = 429, description = "Too many wrong current passwords", body = Problem),
    ))]
pub async fn handler(
    State(state): State<AppState>,
    PasswordChanger(principal): PasswordChanger,
    client: ClientInfo,
    Body(req): Body<ChangePasswordRequest>,
) -> AppResult<Json<TokenResponse>> {
    authorize_self(&state, &principal).await?;
    let org = &principal.org;
    let user = &principal.user;
    // A wrong current password counts against the account like a failed login.
    let counter = Counter::new(org, Some(&user.id), "", client.ip.as_deref());
    let (user_key, credential_key) = (keys::user(org, &user.id), keys::credential(org, &user.id));
    let mut wanted = vec![user_key.clone(), credential_key.clone()];
    wanted.extend(counter.keys());
    let items = state.store.batch_get(&wanted).await?;
    let (failures, bucket) = counter.read(&items)?;
    counter.count(&state, failures, bucket, false).await?;
    let ended = || AppError::Unauthenticated("the session has ended; log in again");
    // The user as stored now (not as authenticated): a change made meanwhile (deactivation) is
    // neither lost nor overwritten.
    let fresh = items.iter().find(|i| i.key == user_key).ok_or_else(ended)?;
    let (stored, user_version) = (fresh.parse::<User>()?, fresh.version);
    if !stored.may_log_in() {
        return Err(ended());
    }
    let credential = items.iter().find(|i| i.key == credential_key).ok_or_else(ended)?;
    let credential = Versioned { record: credential.parse::<Credential>()?, version: credential.version };
    let current = credential.record.password_hash.clone();
    if !password::verify_off_thread(req.current_password.expose().to_owned(), current, &state.hashing).await? {
        return Err(AppError::Denied { kind: "wrong-password", detail: "the current password is wrong".into() });
    }
    check_new(user, req.current_password.expose(), req.new_password.expose())?;
    let hash = password::hash_off_thread(req.new_password.into_exposed(), state.random.clone(), &state.hashing).await?;
    let now = state.now();
    let mut changed = stored;
    changed.end_sessions(now);
    changed.updated_at = now;
    let new_credential = Credential {
        password_hash: Some(hash),
        changed_at: now,
        must_change: false,
        link_generation: credential.record.link_generation + 1,
    };
    let (session, refresh) = new_session(&state, org, &changed, &client, false);
    state
        .store
        .transact(vec![
            TxOp::put(
                new_credential.item(org, &user.id, credential.version + 1)?,
                Condition::VersionIs(credential.version),
            ),
            TxOp::put(changed.item(org, user_version + 1)?, Condition::VersionIs(user_version)),
            TxOp::put(session_item(org, &session, 1)?, Condition::NotExists),
            // This session ends too, even within the instant the others are cut off at.
            TxOp::Delete { key: keys::session(org, &principal.session_id), condition: Condition::None },
            TxOp::Delete { key: counter.failures.clone(), condition: Condition::None },
        ])
        .await?;
    tracing::info!(org = %org, user = %user.id, "password changed by its owner; every other session ended");
    Ok(Json(tokens(&state, org, &session, &refresh)?))
}

fn check_new(user: &User, current: &str, new: &str) -> AppResult<()> {
    if new == current {
        return Err(AppError::invalid("new_password", "must differ from the current password"));
    }
    let email_name = user.email.as_ref().and_then(|e| e.as_str().split('@').next());
    let logins: Vec<&str> = [user.username.as_ref().map(|u| u.as_str()), email_name].into_iter().flatten().collect();
    password::check_policy(new, &logins).map_err(|why| AppError::invalid("new_password", why))
}
