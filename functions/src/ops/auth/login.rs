//! `POST /v1/auth/login`: organisation + email or username + password.
//!
//! Four store round trips on success: the login name and its recent attempts (one batch get),
//! counting this attempt (one conditional put, before the password is checked, so parallel
//! guesses are all counted), the user and credential (one batch get), and one transaction
//! writing the session, the login activity and the last-login time and clearing the count. A
//! user who must change their password gets a session that may do nothing else. Unknown logins and wrong
//! passwords get the same answer after the same work; 10 attempts within 15 minutes lock the
//! login name, known or not, until the oldest leaves the window.

use axum::Json;
use axum::extract::State;
use chrono::Duration;
use guardpost_shared::auth::password;
use guardpost_shared::domain::{OrgSlug, Secret, UserId};
use guardpost_shared::http::{Body, ClientInfo, Problem};
use guardpost_shared::records::user::{self, Credential, LastLogin, LoginFailures, LoginName, LoginOutcome, User};
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
    // The attempt is counted before the password is checked, so parallel guesses cannot all
    // slip in under the threshold.
    if let Err(locked) = reserve_attempt(&state, &org, &login, failures).await {
        let activity = activity_item(&state, &org, user_id.as_ref(), &login, LoginOutcome::LockedOut, &client)?;
        state.store.put(activity, Condition::None).await?;
        return Err(locked);
    }

    // Unknown logins read too (a key that cannot exist), so both paths cost the same.
    let read_as = user_id.unwrap_or_else(nobody);
    let found = read_user(&state, &org, &read_as).await?.filter(|_| user_id.is_some());
    let stored_hash = match &found {
        Some((_, Credential { password_hash: Some(hash), .. })) => Some(hash.clone()),
        _ => None,
    };
    let must_change = found.as_ref().is_some_and(|(_, c)| c.must_change);
    let verified = password::verify_off_thread(req.password.into_exposed(), stored_hash).await;
    let user = found.map(|(u, _)| u);
    let outcome = match (&user, verified) {
        (Some(u), true) if u.may_log_in() => LoginOutcome::Success,
        (Some(_), true) => LoginOutcome::NotAllowed,
        (Some(_), false) => LoginOutcome::WrongPassword,
        (None, _) => LoginOutcome::UnknownLogin,
    };
    let activity = activity_item(&state, &org, user.as_ref().map(|u| &u.id), &login, outcome, &client)?;
    match (outcome, user) {
        (LoginOutcome::Success, Some(user)) => {
            let (session, refresh) = new_session(&state, &org, &user, &client, must_change);
            let last = LastLogin { at: state.now() };
            state
                .store
                .transact(vec![
                    TxOp::put(session_item(&org, &session, 1)?, Condition::NotExists),
                    TxOp::put(activity, Condition::None),
                    TxOp::Delete { key: keys::login_failures(&org, &login), condition: Condition::None },
                    TxOp::put(item(keys::last_login(&org, &user.id), user::LAST_LOGIN_KIND, &last)?, Condition::None),
                ])
                .await?;
            tracing::info!(org = %org, user = %user.id, "login succeeded");
            Ok(Json(tokens(&state, &org, &session, &refresh)?))
        }
        _ => {
            state.store.put(activity, Condition::None).await?;
            Err(AppError::InvalidCredentials)
        }
    }
}

/// A user id no user has (the nil ULID), for the equal-cost read of unknown logins.
fn nobody() -> UserId {
    UserId::from_ulid(Default::default())
}

pub(crate) async fn read_login(
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

/// Counts this attempt against the login name, or refuses it when the name is locked. The
/// write is conditional on the version read and retried on a race, so every concurrent attempt
/// is counted. A successful login clears the count.
pub(crate) async fn reserve_attempt(
    state: &AppState,
    org: &OrgSlug,
    login: &str,
    mut failures: Option<Versioned<LoginFailures>>,
) -> AppResult<()> {
    let now = state.now();
    let window = Duration::seconds(state.settings.lockout_window_secs);
    for _ in 0..64 {
        let (mut record, condition, version) = match &failures {
            Some(v) => (v.record.clone(), Condition::VersionIs(v.version), v.version + 1),
            None => (LoginFailures::default(), Condition::NotExists, 1),
        };
        record.attempts.retain(|t| *t > now - window);
        if record.attempts.len() >= state.settings.lockout_threshold {
            let oldest = record.attempts.iter().min().copied().unwrap_or(now);
            let retry_after_secs = u64::try_from((oldest + window - now).num_seconds().max(1)).unwrap_or(1);
            return Err(AppError::LockedOut { retry_after_secs });
        }
        record.attempts.push(now);
        let mut attempt = item(keys::login_failures(org, login), user::LOGIN_FAILURES_KIND, &record)?
            .expiring_at((now + window).timestamp());
        attempt.version = version;
        match state.store.put(attempt, condition).await {
            Ok(()) => return Ok(()),
            Err(StoreError::ConditionFailed | StoreError::Conflict) => {
                failures = read_login(state, org, login).await?.1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    // So many attempts at once on one name is an attack: refuse rather than guess.
    Err(AppError::LockedOut { retry_after_secs: 1 })
}
