//! `POST /v1/auth/login`: organisation + email or username + password.
//!
//! Four store round trips on success: the login name's claim; one batch get of the user, their
//! credential, their known devices, the failures counted against the account and the client
//! address's bucket; counting this attempt (one transaction, before the password is checked, so
//! parallel guesses are all counted); one transaction writing the session, the login activity,
//! the last-login time and the device, and clearing the count. A user who must change their
//! password gets a session that may do nothing else. Unknown logins and wrong passwords get the
//! same answer after the same work. After 10 failures within 15 minutes, attempts against the
//! account are held up for a delay that doubles with each further failure, except from a device
//! that logged in to it before; each client address gets a burst of attempts, then a steady rate
//! (`auth::attempts`). Password hashing runs within `AppState::hashing`'s permits.

use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use guardpost_shared::auth::password;
use guardpost_shared::domain::{OrgSlug, Secret, UserId};
use guardpost_shared::http::{Body, ClientInfo, Problem};
use guardpost_shared::records::user::{self, Credential, LastLogin, LoginName, LoginOutcome, User};
use guardpost_shared::records::{item, keys};
use guardpost_shared::store::{Condition, Item, Key, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::TokenResponse;
use super::attempts::{Counter, KnownDevices};
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
    /// The organisation's slug, e.g. `demo`: 2 to 40 of `a-z 0-9 -`, starting with a letter or
    /// digit (anything else is answered like a wrong password).
    #[schema(
        pattern = r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[a-z0-9][a-z0-9-]{1,39}[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub org: String,
    /// Email address or username.
    pub login: String,
    pub password: Secret,
    /// The `device_token` an earlier login from this device answered: a device that logged in
    /// before is not held up by failed attempts against the account.
    pub device_token: Option<Secret>,
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Unknown login or wrong password (the same answer)", body = Problem),
        (status = 429, description = "Attempts held up after failures (from a device not seen before), or too many attempts from this address", body = Problem),
        (status = 503, description = "Too many logins at once: retry after Retry-After", body = Problem),
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
        password::verify_off_thread(req.password.into_exposed(), None, &state.hashing).await?;
        return Err(AppError::InvalidCredentials);
    };

    // 1. Who the login name is.
    let user_id = state.store.get(&keys::login(&org, &login)).await?.map(|i| i.parse::<LoginName>()).transpose()?;
    let user_id = user_id.map(|c| c.user_id);
    // 2. Their user, credential and devices, and what counts against the attempt. Unknown logins
    //    read too (keys that cannot exist), so both paths cost the same.
    let read_as = user_id.unwrap_or_else(nobody);
    let counter = Counter::new(&org, user_id.as_ref(), &login, client.ip.as_deref());
    let mut wanted =
        vec![keys::user(&org, &read_as), keys::credential(&org, &read_as), keys::known_devices(&org, &read_as)];
    wanted.extend(counter.keys());
    let items = state.store.batch_get(&wanted).await?;
    let find = |key: &Key| items.iter().find(|i| &i.key == key);
    let user = find(&wanted[0]).map(Item::parse::<User>).transpose()?.filter(|_| user_id.is_some());
    let credential = find(&wanted[1]).map(Item::parse::<Credential>).transpose()?;
    let devices = find(&wanted[2]).map(|i| i.parse::<KnownDevices>().map(|d| (d, i.version))).transpose()?;
    let (devices, devices_version) = devices.unwrap_or_default();
    let known_device = devices.knows(req.device_token.as_ref().map(Secret::expose));
    let (failures, bucket) = counter.read(&items)?;
    // 3. The attempt is counted before the password is checked, so parallel guesses cannot all
    //    slip in under the threshold.
    if let Err(refused) = counter.count(&state, failures, bucket, known_device).await {
        let activity = activity_item(&state, &org, user_id.as_ref(), &login, LoginOutcome::LockedOut, &client)?;
        state.store.put(activity, Condition::None).await?;
        return Err(refused);
    }
    // 4. The password.
    let stored_hash = credential.as_ref().filter(|_| user.is_some()).and_then(|c| c.password_hash.clone());
    let must_change = credential.as_ref().is_some_and(|c| c.must_change);
    let verified = password::verify_off_thread(req.password.into_exposed(), stored_hash, &state.hashing).await?;
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
            // The device is remembered: the token it sent back, or a new one.
            let device = match req.device_token.filter(|_| known_device) {
                Some(t) => t.into_exposed(),
                None => URL_SAFE_NO_PAD.encode(state.random.bytes(32)),
            };
            state
                .store
                .transact(vec![
                    TxOp::put(session_item(&org, &session, 1)?, Condition::NotExists),
                    TxOp::put(activity, Condition::None),
                    TxOp::Delete { key: counter.failures.clone(), condition: Condition::None },
                    TxOp::put(item(keys::last_login(&org, &user.id), user::LAST_LOGIN_KIND, &last)?, Condition::None),
                    devices.remember(&org, &user.id, &device, devices_version)?,
                ])
                .await?;
            tracing::info!(org = %org, user = %user.id, "login succeeded");
            let mut answer = tokens(&state, &org, &session, &refresh)?;
            answer.device_token = Some(device);
            Ok(Json(answer))
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
