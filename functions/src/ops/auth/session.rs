//! Starting a session: the items a successful login writes, and the tokens it answers with.

use chrono::{DateTime, Duration, Utc};
use guardpost_shared::auth::RefreshToken;
use guardpost_shared::auth::tokens::{ACCESS_TTL_SECS, SESSION_TTL_SECS};
use guardpost_shared::domain::{OrgSlug, SessionId, UserId};
use guardpost_shared::http::ClientInfo;
use guardpost_shared::records::session::{self, Session};
use guardpost_shared::records::user::{self, LoginActivity, LoginOutcome, User};
use guardpost_shared::records::{item, keys};
use guardpost_shared::store::{Item, Key};
use guardpost_shared::{AppError, AppState};

use super::TokenResponse;

/// Login activity is kept for 400 days.
const ACTIVITY_TTL_DAYS: i64 = 400;

pub fn tokens(
    state: &AppState,
    org: &OrgSlug,
    session: &Session,
    refresh: &RefreshToken,
) -> Result<TokenResponse, AppError> {
    let access_token = state.tokens.issue(org, &session.user_id, &session.id, state.now())?;
    Ok(TokenResponse {
        access_token,
        refresh_token: refresh.reveal(),
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECS,
        password_change_required: session.password_change_only,
        device_token: None,
    })
}

/// A new session; `password_change_only` for a user who must change their password first.
pub fn new_session(
    state: &AppState,
    org: &OrgSlug,
    user: &User,
    client: &ClientInfo,
    password_change_only: bool,
) -> (Session, RefreshToken) {
    let now = state.now();
    let id = SessionId::from_ulid(state.new_ulid());
    let refresh = RefreshToken::generate(org, &id, state.random.as_ref());
    let session = Session {
        id,
        user_id: user.id,
        created_at: now,
        expires_at: now + Duration::seconds(SESSION_TTL_SECS),
        refreshed_at: now,
        refresh_hash: refresh.hash(),
        previous_hashes: Vec::new(),
        revoked_at: None,
        revoked_reason: None,
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        password_change_only,
        epoch: user.session_epoch,
    };
    (session, refresh)
}

pub fn session_item(org: &OrgSlug, session: &Session, version: u64) -> Result<Item, AppError> {
    let mut item =
        item(keys::session(org, &session.id), session::KIND, session)?.expiring_at(session.expires_at.timestamp());
    item.version = version;
    Ok(item)
}

/// One login attempt, under the user when known.
pub fn activity_item(
    state: &AppState,
    org: &OrgSlug,
    user: Option<&UserId>,
    login: &str,
    outcome: LoginOutcome,
    client: &ClientInfo,
) -> Result<Item, AppError> {
    let now: DateTime<Utc> = state.now();
    let pk = match user {
        Some(id) => keys::user_items(org, id),
        None => keys::login_activity_of_unknown(org),
    };
    let sk = format!(
        "{}{}#{}",
        keys::LOGIN_ACTIVITY_PREFIX,
        now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        state.new_ulid()
    );
    // A name nobody has may be a password typed into the wrong field: keep only a digest.
    let login = match user {
        Some(_) => login.to_owned(),
        None => format!("unknown:{}", &guardpost_shared::auth::tokens::hash_secret(login)[..16]),
    };
    let record =
        LoginActivity { at: now, login, outcome, ip: client.ip.clone(), user_agent: client.user_agent.clone() };
    Ok(item(Key::new(pk, sk), user::LOGIN_ACTIVITY_KIND, &record)?
        .expiring_at((now + Duration::days(ACTIVITY_TTL_DAYS)).timestamp()))
}
