//! The per-request check: a bearer token becomes a principal only if its session is live and
//! its user may still log in, read fresh from the base table on every request (one batch get of
//! the session, the user and the user's role assignments),
//! so logout, password changes and terminations take effect on the next request.

use crate::domain::{OrgSlug, SessionId, UserId};
use crate::error::AppError;
use crate::records::role::{self, UserAccess};
use crate::records::session::Session;
use crate::records::user::User;
use crate::records::{keys, session, user};
use crate::state::AppState;
use std::net::IpAddr;

/// Who is calling: an authenticated user of one organisation.
#[derive(Clone, Debug)]
pub struct Principal {
    pub org: OrgSlug,
    pub user: User,
    pub session_id: SessionId,
    /// Every role assignment of the user, read with the session.
    pub access: UserAccess,
    /// The address the request came from.
    pub ip: Option<IpAddr>,
    /// The roles the assignments name, read by the first decision of the request and reused by
    /// the others (never across requests).
    pub roles: std::sync::Arc<crate::access::RolesCache>,
    /// The session may only change the password (the user must change it): every extractor
    /// but the password change's refuses it.
    pub password_change_only: bool,
}

impl Principal {
    pub fn user_id(&self) -> UserId {
        self.user.id
    }
}

/// Who a valid, unexpired access token names: its organisation, user and session (not yet
/// checked against the store).
pub fn token_subject(state: &AppState, bearer: &str) -> Result<(OrgSlug, UserId, SessionId), AppError> {
    let claims = state.tokens.verify(bearer, state.now()).map_err(|e| match e {
        crate::auth::tokens::TokenError::Expired => {
            AppError::Unauthenticated("the access token has expired; refresh it")
        }
        crate::auth::tokens::TokenError::Invalid => AppError::Unauthenticated("the access token is not valid"),
    })?;
    let invalid = || AppError::Unauthenticated("the access token is not valid");
    let org = OrgSlug::parse(&claims.org).map_err(|_| invalid())?;
    let user_id = UserId::parse(&claims.sub).map_err(|_| invalid())?;
    let session_id = SessionId::parse(&claims.sid).map_err(|_| invalid())?;
    Ok((org, user_id, session_id))
}

pub async fn authenticate(state: &AppState, bearer: &str, ip: Option<IpAddr>) -> Result<Principal, AppError> {
    let now = state.now();
    let (org, user_id, session_id) = token_subject(state, bearer)?;

    let user_key = keys::user(&org, &user_id);
    let session_key = keys::session(&org, &session_id);
    let access_key = keys::user_access(&org, &user_id);
    let items = state.store.batch_get(&[user_key.clone(), session_key.clone(), access_key.clone()]).await?;
    let mut found_user: Option<User> = None;
    let mut found_session: Option<Session> = None;
    let mut access = UserAccess::default();
    for item in &items {
        if item.key == user_key && item.kind == user::KIND {
            found_user = Some(item.parse_shared()?);
        } else if item.key == session_key && item.kind == session::KIND {
            found_session = Some(item.parse_shared()?);
        } else if item.key == access_key && item.kind == role::ACCESS_KIND {
            access = item.parse_shared()?;
        }
    }
    let ended = || AppError::Unauthenticated("the session has ended; log in again");
    let (user, session) = match (found_user, found_session) {
        (Some(u), Some(s)) => (u, s),
        _ => return Err(ended()),
    };
    if !user.accepts(&session)
        || !session.is_live(now)
        || access.sessions_valid_after.is_some_and(|after| session.created_at <= after)
        || !user.may_log_in()
    {
        return Err(ended());
    }
    let password_change_only = session.password_change_only;
    Ok(Principal { org, user, session_id, access, ip, roles: Default::default(), password_change_only })
}
