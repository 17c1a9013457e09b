//! `POST /v1/auth/login`: organisation + email or username + password.
//!
//! Three store round trips on success: the login name and its recent failures (one batch get),
//! the user and credential (one batch get), and one transaction writing the session and the login
//! activity and clearing the failures. Unknown logins and wrong passwords get the same answer in
//! the same time; 10 failures within 15 minutes lock the login name, known or not.

use axum::Json;
use axum::extract::State;
use chrono::Duration;
use guardpost_shared::auth::password;
use guardpost_shared::domain::{OrgSlug, Secret, UserId};
use guardpost_shared::http::{Body, ClientInfo, Problem};
use guardpost_shared::records::user::{self, Credential, LoginFailures, LoginName, LoginOutcome, User};
use guardpost_shared::records::{Versioned, item, keys};
use guardpost_shared::store::{Condition, Item, StoreError, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::TokenResponse;
use super::session::{activity_item, new_session, session_item, tokens};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation =
    Operation { id: "login", method: "POST", path: "/v1/auth/login", access: Access::Public, router };

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The organisation's slug, e.g. `demo`.
    pub org: String,
    /// Email address or username.
    pub login: String,
    pub password: Secret,
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Unknown login or wrong password (the same answer)", body = Problem),
        (status = 429, description = "Too many failed attempts for this login", body = Problem),
    ))]
pub async fn handler(
    State(state): State<AppState>,
    client: ClientInfo,
    Body(req): Body<LoginRequest>,
) -> AppResult<Json<TokenResponse>> {
    let login = req.login.trim().to_lowercase();
    let org = OrgSlug::parse(&req.org).ok();
    let plausible = !login.is_empty()
        && login.len() <= 254
        && !login.chars().any(char::is_control)
        && req.password.expose().len() <= 1024;
    let Some(org) = org.filter(|_| plausible) else {
        password::verify_off_thread(req.password.into_exposed(), None).await;
        return Err(AppError::InvalidCredentials);
    };

    let (user_id, failures) = read_login(&state, &org, &login).await?;
    let now = state.now();
    let window = Duration::seconds(state.settings.lockout_window_secs);
    let recent: Vec<_> = failures
        .as_ref()
        .map(|f| f.record.attempts.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|t| *t > now - window)
        .collect();
    if recent.len() >= state.settings.lockout_threshold {
        let oldest = recent.iter().min().copied().unwrap_or(now);
        let retry_after_secs = u64::try_from((oldest + window - now).num_seconds().max(1)).unwrap_or(1);
        let activity = activity_item(&state, &org, user_id.as_ref(), &login, LoginOutcome::LockedOut, &client)?;
        state.store.put(activity, Condition::None).await?;
        return Err(AppError::LockedOut { retry_after_secs });
    }

    let found = match user_id {
        Some(id) => read_user(&state, &org, &id).await?,
        None => None,
    };
    let stored_hash = match &found {
        Some((_, Credential { password_hash: Some(hash), .. })) => Some(hash.clone()),
        _ => None,
    };
    let verified = password::verify_off_thread(req.password.into_exposed(), stored_hash).await;
    let user = found.map(|(u, _)| u);
    match (verified, user) {
        (true, Some(user)) if user.may_log_in() => {
            let (session, refresh) = new_session(&state, &org, &user, &client);
            state
                .store
                .transact(vec![
                    TxOp::put(session_item(&org, &session, 1)?, Condition::NotExists),
                    TxOp::put(
                        activity_item(&state, &org, Some(&user.id), &login, LoginOutcome::Success, &client)?,
                        Condition::None,
                    ),
                    TxOp::Delete { key: keys::login_failures(&org, &login), condition: Condition::None },
                ])
                .await?;
            tracing::info!(org = %org, user = %user.id, "login succeeded");
            Ok(Json(tokens(&state, &org, &session, &refresh)?))
        }
        (true, Some(user)) => {
            state
                .store
                .put(
                    activity_item(&state, &org, Some(&user.id), &login, LoginOutcome::NotAllowed, &client)?,
                    Condition::None,
                )
                .await?;
            Err(AppError::InvalidCredentials)
        }
        (_, user) => {
            let outcome = if user.is_some() { LoginOutcome::WrongPassword } else { LoginOutcome::UnknownLogin };
            let activity = activity_item(&state, &org, user.as_ref().map(|u| &u.id), &login, outcome, &client)?;
            record_failure(&state, &org, &login, failures, activity).await?;
            Err(AppError::InvalidCredentials)
        }
    }
}

async fn read_login(
    state: &AppState,
    org: &OrgSlug,
    login: &str,
) -> AppResult<(Option<UserId>, Option<Versioned<LoginFailures>>)> {
    let login_key = keys::login(org, login);
    let failures_key = keys::login_failures(org, login);
    let items = state.store.batch_get(&[login_key.clone(), failures_key.clone()]).await?;
    let mut user_id = None;
    let mut failures = None;
    for item in items {
        if item.key == login_key {
            user_id = Some(item.parse::<LoginName>()?.user_id);
        } else if item.key == failures_key {
            failures = Some(Versioned { record: item.parse()?, version: item.version });
        }
    }
    Ok((user_id, failures))
}

async fn read_user(state: &AppState, org: &OrgSlug, id: &UserId) -> AppResult<Option<(User, Credential)>> {
    let user_key = keys::user(org, id);
    let cred_key = keys::credential(org, id);
    let items = state.store.batch_get(&[user_key.clone(), cred_key.clone()]).await?;
    let user = items.iter().find(|i| i.key == user_key).map(Item::parse::<User>).transpose()?;
    let cred = items.iter().find(|i| i.key == cred_key).map(Item::parse::<Credential>).transpose()?;
    Ok(user.zip(cred))
}

/// Appends a failure with a version check, re-reading on a race so that concurrent attempts
/// are all counted (otherwise a burst of parallel guesses would slip past the lockout).
async fn record_failure(
    state: &AppState,
    org: &OrgSlug,
    login: &str,
    mut failures: Option<Versioned<LoginFailures>>,
    activity: Item,
) -> AppResult<()> {
    let now = state.now();
    let window = Duration::seconds(state.settings.lockout_window_secs);
    for _ in 0..8 {
        let (mut record, condition, version) = match &failures {
            Some(v) => (v.record.clone(), Condition::VersionIs(v.version), v.version + 1),
            None => (LoginFailures::default(), Condition::NotExists, 1),
        };
        record.attempts.retain(|t| *t > now - window);
        record.attempts.push(now);
        let mut failure_item = item(keys::login_failures(org, login), user::LOGIN_FAILURES_KIND, &record)?
            .expiring_at((now + window).timestamp());
        failure_item.version = version;
        let ops = vec![TxOp::put(failure_item, condition), TxOp::put(activity.clone(), Condition::None)];
        match state.store.transact(ops).await {
            Ok(()) => return Ok(()),
            Err(StoreError::TransactionCanceled { .. } | StoreError::Conflict) => {
                failures = read_login(state, org, login).await?.1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Store(StoreError::Conflict))
}
