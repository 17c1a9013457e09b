//! Turning an outbox message into what is sent: looking up addresses, making single-use links,
//! and fanning a site event out to the people who should hear of it.

use crate::domain::utc;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{Email, Message};
use crate::auth::tokens::hash_secret;
use crate::clock::Random;
use crate::domain::{OrgSlug, UserId};
use crate::error::AppError;
use crate::records::org::Organisation;
use crate::records::preferences::{Preferences, Topic};
use crate::records::site::Site;
use crate::records::user::{Credential, SiteAssignment, User};
use crate::records::{get, item, keys};
use crate::store::{Condition, Key, Query, Store, read_all};

pub const TOKEN_KIND: &str = "password-token";
/// A welcome link lasts 72 hours; a reset link one hour.
pub const WELCOME_TTL_HOURS: i64 = 72;
pub const RESET_TTL_HOURS: i64 = 1;

/// What a message becomes.
#[derive(Debug)]
pub enum Rendered {
    Email(Email),
    Sms {
        to: String,
        text: String,
    },
    /// One message per recipient, each delivered on its own.
    FanOut(Vec<super::Recipient>),
    /// Nothing can be sent (no address); the reason is kept on the failed item.
    Nothing(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    Welcome,
    Reset,
}

/// A single-use password link, stored only as the hash of its secret.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PasswordToken {
    pub user_id: UserId,
    pub purpose: TokenPurpose,
    #[serde(with = "utc")]
    pub expires_at: DateTime<Utc>,
    /// The credential's link generation when the link was made; it works only while the
    /// credential is still at that generation.
    #[serde(default)]
    pub generation: u32,
}

pub fn token_key(org: &OrgSlug, secret_hash: &str) -> Key {
    Key::new(format!("T#{org}#PWTOKEN#{secret_hash}"), "TOKEN")
}

/// Parses a link token `{org}.{secret}` into the organisation and the key of its stored hash.
pub fn parse_token(raw: &str) -> Option<(OrgSlug, Key)> {
    let (org, secret) = raw.trim().split_once('.')?;
    let org = OrgSlug::parse(org).ok()?;
    if secret.len() != 43 || URL_SAFE_NO_PAD.decode(secret).is_err() {
        return None;
    }
    let key = token_key(&org, &hash_secret(secret));
    Some((org, key))
}

pub struct Context<'a> {
    pub store: &'a dyn Store,
    pub random: &'a dyn Random,
    pub now: DateTime<Utc>,
    pub public_url: &'a str,
}

pub async fn render(ctx: &Context<'_>, org: &OrgSlug, message: &Message) -> Result<Rendered, AppError> {
    match message {
        Message::Email { to, subject, text } => {
            Ok(Rendered::Email(Email { to: to.clone(), subject: subject.clone(), text: text.clone() }))
        }
        Message::Sms { to, text } => Ok(Rendered::Sms { to: to.clone(), text: text.clone() }),
        Message::Welcome { user_id, generation } => {
            password_link(ctx, org, user_id, TokenPurpose::Welcome, Some(*generation)).await
        }
        Message::PasswordReset { user_id } => password_link(ctx, org, user_id, TokenPurpose::Reset, None).await,
        Message::TemporaryPassword { user_id, generation } => {
            super::temporary::render(ctx, org, user_id, *generation).await
        }
        Message::UnplannedClockIn { site_id, employee_id, at, .. } => {
            let site = get::<Site>(ctx.store, &keys::site(org, site_id)).await?.map(|v| v.record);
            let employee = get::<User>(ctx.store, &keys::user(org, employee_id)).await?.map(|v| v.record);
            let (Some(site), Some(employee)) = (site, employee) else {
                return Ok(Rendered::Nothing("the site or the employee no longer exists".into()));
            };
            let local = at.with_timezone(&site.time_zone.tz());
            let text = format!(
                "guardpost: {} clocked in at {} at {} ({}) on an unplanned shift.",
                employee.full_name(),
                site.name,
                local.format("%H:%M"),
                site.time_zone
            );
            let mut out = Vec::new();
            for (manager, preferences) in site_managers(ctx.store, org, &site, employee_id, ctx.now).await? {
                // An alert: by SMS where the manager allows it and has a number that takes SMS,
                // else by email where they allow that.
                let wants = preferences.channels(Topic::Exception);
                let sms = [manager.main_phone.as_ref(), manager.other_phone.as_ref()]
                    .into_iter()
                    .flatten()
                    .find(|p| p.sms_enabled)
                    .filter(|_| wants.sms);
                if let Some(phone) = sms {
                    let message = Message::Sms { to: phone.number.as_str().to_owned(), text: text.clone() };
                    out.push(super::Recipient { key: format!("{}-sms", manager.id), message });
                } else if let Some(email) = manager.email.as_ref().filter(|_| wants.email) {
                    let subject = format!("Unplanned clock-in at {}", site.name);
                    let message = Message::Email { to: email.as_str().to_owned(), subject, text: text.clone() };
                    out.push(super::Recipient { key: format!("{}-email", manager.id), message });
                }
            }
            Ok(Rendered::FanOut(out))
        }
    }
}

/// The people assigned to the site (and, for a sub-site, to its master site) who hold
/// `dashboard:exceptions` there, active, other than the employee who clocked in, each with their
/// notification preferences.
async fn site_managers(
    store: &dyn Store,
    org: &OrgSlug,
    site: &Site,
    except: &UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(User, Preferences)>, AppError> {
    let mut sites = vec![site.id];
    sites.extend(site.parent_site_id);
    let mut ids = Vec::new();
    for s in sites {
        for it in read_all(store, &Query::gsi1(keys::site_employees(org, &s))).await? {
            let a: SiteAssignment = it.parse()?;
            if a.user_id != *except && !ids.contains(&a.user_id) {
                ids.push(a.user_id);
            }
        }
    }
    // Those who watch the site's exceptions (the default Manager and Supervisor roles do),
    // decided by the same rules as every request.
    let target = crate::access::Target::Site(crate::access::facts(site));
    let mut managers = Vec::new();
    for chunk in ids.chunks(crate::store::MAX_BATCH_GET / 3) {
        let mut wanted: Vec<Key> = chunk.iter().map(|id| keys::user(org, id)).collect();
        wanted.extend(chunk.iter().map(|id| keys::user_access(org, id)));
        wanted.extend(chunk.iter().map(|id| keys::notification_preferences(org, id)));
        let items = store.batch_get(&wanted).await?;
        let mut accesses = std::collections::HashMap::new();
        for it in items.iter().filter(|it| it.kind == crate::records::role::ACCESS_KIND) {
            let access: crate::records::role::UserAccess = it.parse()?;
            accesses.insert(access.user_id, access);
        }
        // The roles all these people hold, in one read.
        let everyone: Vec<_> = accesses.values().flat_map(|a| a.assignments.iter().cloned()).collect();
        let (roles, _) = crate::access::gather(store, org, &everyone, crate::access::Resource::Organisation).await?;
        for it in items.iter().filter(|it| it.kind == crate::records::user::KIND) {
            let user: User = it.parse()?;
            let access = accesses.remove(&Some(user.id)).unwrap_or_default();
            let subject =
                crate::access::Subject { user: &user, assignments: &access.assignments, roles: &roles, ip: None };
            let watches = crate::access::decision::decide(&subject, "dashboard:exceptions", &target, now).allowed;
            if user.may_log_in() && watches {
                let key = keys::notification_preferences(org, &user.id);
                let preferences = items.iter().find(|it| it.key == key).map(|it| it.parse()).transpose()?;
                managers.push((user, preferences.unwrap_or_default()));
            }
        }
    }
    managers.sort_by_key(|(u, _)| u.id);
    Ok(managers)
}

/// The user, their credential and the organisation's name, for an account email; `Err` holds
/// why nothing can be sent.
pub(super) struct Account {
    pub user: User,
    pub email: String,
    pub credential: crate::records::Versioned<Credential>,
    pub org_name: String,
}

pub(super) async fn account(
    ctx: &Context<'_>,
    org: &OrgSlug,
    user_id: &UserId,
) -> Result<Result<Account, String>, AppError> {
    let wanted = [keys::user(org, user_id), keys::credential(org, user_id), keys::org(org)];
    let items = ctx.store.batch_get(&wanted).await?;
    let find = |key: &Key| items.iter().find(|i| &i.key == key);
    let Some(user) = find(&wanted[0]).map(|i| i.parse::<User>()).transpose()? else {
        return Ok(Err("the user no longer exists".into()));
    };
    let Some(email) = user.email.as_ref().map(|e| e.as_str().to_owned()) else {
        return Ok(Err("the user has no email address".into()));
    };
    let credential = match find(&wanted[1]) {
        Some(i) => crate::records::Versioned { record: i.parse::<Credential>()?, version: i.version },
        None => return Ok(Err("the user has no credential".into())),
    };
    let org_name =
        find(&wanted[2]).map(|i| i.parse::<Organisation>()).transpose()?.map_or_else(|| org.to_string(), |o| o.name);
    Ok(Ok(Account { user, email, credential, org_name }))
}

/// Makes a single-use link for the user (stored as a hash, expiring) and the email carrying it.
/// An invitation asked for at an older generation of the credential is void: a newer one was
/// sent, or a password was set since.
async fn password_link(
    ctx: &Context<'_>,
    org: &OrgSlug,
    user_id: &UserId,
    purpose: TokenPurpose,
    asked_at: Option<u32>,
) -> Result<Rendered, AppError> {
    let Account { user, email, credential, org_name } = match account(ctx, org, user_id).await? {
        Ok(a) => a,
        Err(why) => return Ok(Rendered::Nothing(why)),
    };
    let generation = credential.record.link_generation;
    if asked_at.is_some_and(|g| g != generation) {
        return Ok(Rendered::Nothing("superseded: a newer invitation was sent, or a password was set".into()));
    }
    let secret = URL_SAFE_NO_PAD.encode(ctx.random.bytes(32));
    let hours = if purpose == TokenPurpose::Welcome { WELCOME_TTL_HOURS } else { RESET_TTL_HOURS };
    let expires_at = ctx.now + Duration::hours(hours);
    let token = PasswordToken { user_id: *user_id, purpose, expires_at, generation };
    let token_item =
        item(token_key(org, &hash_secret(&secret)), TOKEN_KIND, &token)?.expiring_at(expires_at.timestamp());
    ctx.store.put(token_item, Condition::NotExists).await?;
    let link = format!("{}/set-password?token={org}.{secret}", ctx.public_url.trim_end_matches('/'));
    let api = format!("API: POST /v1/auth/set-password with {{\"token\": \"{org}.{secret}\", \"password\": \"...\"}}");
    let (subject, text) = match (purpose, user.kind) {
        (TokenPurpose::Welcome, crate::records::user::UserKind::Client) => (
            format!("{org_name} invites you to its client portal"),
            format!(
                "Hello {},\n\n{org_name} has given you access to its client portal (organisation \"{org}\"), where you can follow the activity at your sites.\nYour login is this email address. Choose your password here within {hours} hours; the link works once:\n\n{link}\n\n{api}\n",
                user.first_name
            ),
        ),
        (TokenPurpose::Welcome, _) => (
            format!("Welcome to {org_name}: set your password"),
            format!(
                "Hello {},\n\n{org_name} has created your guardpost account (organisation \"{org}\").\nSet your password here within {hours} hours; the link works once:\n\n{link}\n\n{api}\n",
                user.first_name
            ),
        ),
        (TokenPurpose::Reset, _) => (
            format!("Reset your {org_name} password"),
            format!(
                "Hello {},\n\nSomeone asked to reset your guardpost password. If it was you, set a new one within {hours} hour(s); the link works once:\n\n{link}\n\nIf it was not you, ignore this email: your password stays as it is.\n",
                user.first_name
            ),
        ),
    };
    Ok(Rendered::Email(Email { to: email, subject, text }))
}
