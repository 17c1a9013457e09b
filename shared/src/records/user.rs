//! Users and their credentials. Employees, client users and integration users share one id
//! space; employee profile fields sit on the user record. The password hash lives in a separate
//! item so that no listing ever reads it.

use crate::domain::utc;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::site::Address;
use crate::domain::{Email, OrgSlug, Phone, UserId, Username};
use crate::store::{IndexKey, Item};

pub const KIND: &str = "user";
pub const CREDENTIAL_KIND: &str = "credential";
pub const LOGIN_KIND: &str = "login";
pub const EMPLOYEE_NUMBER_KIND: &str = "employee-number";
pub const SITE_ASSIGNMENT_KIND: &str = "site-assignment";
pub const LOGIN_FAILURES_KIND: &str = "login-failures";
pub const LOGIN_ACTIVITY_KIND: &str = "login-activity";
pub const LAST_LOGIN_KIND: &str = "last-login";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    Employee,
    Client,
    Integration,
}

/// Nothing is deleted: people are deactivated or terminated, their records kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Inactive,
    Terminated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
    NonBinary,
    Other,
    Undisclosed,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub kind: UserKind,
    pub status: UserStatus,
    /// SecurityTrax's "Can Login": an active user may still be kept from logging in.
    pub can_login: bool,
    /// Separate from the Administrator role: only superusers set or clear it, edit default roles
    /// and see the permission matrix.
    pub is_superuser: bool,
    pub email: Option<Email>,
    pub username: Option<Username>,
    /// Sessions created before this instant are void (password change, termination).
    #[serde(with = "utc")]
    pub sessions_valid_after: DateTime<Utc>,
    /// Sessions started at an earlier epoch are void: ending a user's sessions moves it on, so
    /// a session started within the same instant as the cut-off is ended too (records from
    /// before the epoch existed read as 0, as do their sessions).
    #[serde(default)]
    pub session_epoch: u32,
    pub employee_number: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub job_title: Option<String>,
    pub main_phone: Option<Phone>,
    pub other_phone: Option<Phone>,
    pub gender: Option<Gender>,
    pub address: Option<Address>,
    pub birthday: Option<NaiveDate>,
    pub employment_date: Option<NaiveDate>,
    pub comments: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// SecurityTrax's HR settings (records from before they existed read as empty).
    #[serde(default)]
    pub hr: HrSettings,
    /// May send SMS to other users through guardpost.
    #[serde(default)]
    pub can_sms_users: bool,
    /// What the user sees of the employee directory; `None`: the default of their kind.
    #[serde(default)]
    pub directory_access: Option<DirectoryAccess>,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "utc")]
    pub updated_at: DateTime<Utc>,
}

/// SecurityTrax's HR settings section; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HrSettings {
    pub hire_date: Option<NaiveDate>,
    pub start_date: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    /// The user who recruited this one.
    #[schema(value_type = Option<String>)]
    pub recruited_by: Option<UserId>,
    /// The number a payroll company knows the user by.
    pub payroll_id: Option<String>,
    /// e.g. "VP"; with the designation "of Sales".
    pub title: Option<String>,
    pub title_designation: Option<String>,
    pub leave_reason: Option<String>,
    pub transfer_date: Option<NaiveDate>,
    /// The user's manager: the hierarchy of the employee directory. Never a cycle.
    #[schema(value_type = Option<String>)]
    pub reports_to: Option<UserId>,
}

/// SecurityTrax's "Employee Directory Access".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryAccess {
    /// No access to the directory.
    None,
    /// Every active employee.
    Everyone,
    /// The people assigned to a site the user is assigned to.
    SharedLocations,
    /// The user's manager, their peers under that manager, and everyone below the user.
    Hierarchy,
}

impl User {
    /// An active user who may log in, with nothing but a name: the other fields are set by
    /// whoever makes one (the bootstrap administrator, an integration).
    pub fn new(id: UserId, kind: UserKind, first_name: String, last_name: String, now: DateTime<Utc>) -> Self {
        Self {
            id,
            kind,
            status: UserStatus::Active,
            can_login: true,
            is_superuser: false,
            email: None,
            username: None,
            sessions_valid_after: now,
            session_epoch: 0,
            employee_number: None,
            first_name,
            last_name,
            job_title: None,
            main_phone: None,
            other_phone: None,
            gender: None,
            address: None,
            birthday: None,
            employment_date: None,
            comments: None,
            tags: Vec::new(),
            hr: HrSettings::default(),
            can_sms_users: false,
            directory_access: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Ends every session the user has: they log in again.
    pub fn end_sessions(&mut self, now: DateTime<Utc>) {
        self.sessions_valid_after = now;
        self.session_epoch += 1;
    }

    /// Whether a session of this user is still one of theirs: started after the last cut-off
    /// and at the current epoch.
    pub fn accepts(&self, session: &super::session::Session) -> bool {
        session.user_id == self.id
            && session.created_at >= self.sessions_valid_after
            && session.epoch >= self.session_epoch
    }

    pub fn may_log_in(&self) -> bool {
        self.status == UserStatus::Active && self.can_login
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The directory level in effect: the one set, or the default of the user's kind
    /// (employees see the people of their sites; client and integration users see nobody).
    pub fn directory_level(&self) -> DirectoryAccess {
        self.directory_access.unwrap_or(match self.kind {
            UserKind::Employee => DirectoryAccess::SharedLocations,
            UserKind::Client | UserKind::Integration => DirectoryAccess::None,
        })
    }

    /// The stored item: every write of a user goes through here, so the user's place in the
    /// reporting hierarchy (GSI1, "who reports to X") is never lost by a rewrite.
    pub fn item(&self, org: &OrgSlug, version: u64) -> Result<Item, crate::AppError> {
        let mut item = super::item(super::keys::user(org, &self.id), KIND, self)?;
        if let Some(manager) = &self.hr.reports_to {
            item = item.with_gsi1(IndexKey::new(super::keys::reports_to(org, manager), self.id.to_string()));
        }
        item.version = version;
        Ok(item)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Credential {
    /// Argon2id PHC string; `None` until the user sets a password.
    pub password_hash: Option<String>,
    #[serde(with = "utc")]
    pub changed_at: DateTime<Utc>,
    /// The next login gets a session that may only change the password.
    #[serde(default)]
    pub must_change: bool,
    /// Emailed links (invitations, resets) and temporary passwords carry the generation they
    /// were made for; a link of an older generation is refused. Setting a password or sending a
    /// new invitation moves it on, so the older links stop working.
    #[serde(default)]
    pub link_generation: u32,
}

impl Credential {
    pub fn new(password_hash: Option<String>, now: DateTime<Utc>) -> Self {
        Self { password_hash, changed_at: now, must_change: false, link_generation: 0 }
    }

    pub fn item(&self, org: &OrgSlug, user: &UserId, version: u64) -> Result<Item, crate::AppError> {
        let mut item = super::item(super::keys::credential(org, user), CREDENTIAL_KIND, self)?;
        item.version = version;
        Ok(item)
    }
}

/// When the user last logged in: one small item, written by each successful login in the same
/// transaction as the session, so listings of users read it in a batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LastLogin {
    #[serde(with = "utc")]
    pub at: DateTime<Utc>,
}

/// A login name pointing at its user (uniqueness per organisation is the item's existence).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginName {
    pub user_id: UserId,
}

/// A site an employee is assigned to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SiteAssignment {
    pub user_id: UserId,
    pub site_id: crate::domain::SiteId,
    #[serde(with = "utc")]
    pub assigned_at: DateTime<Utc>,
    pub assigned_by: UserId,
}

/// Recent failed logins for one login name.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LoginFailures {
    pub attempts: Vec<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoginOutcome {
    Success,
    WrongPassword,
    UnknownLogin,
    NotAllowed,
    LockedOut,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginActivity {
    #[serde(with = "utc")]
    pub at: DateTime<Utc>,
    pub login: String,
    pub outcome: LoginOutcome,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Reads a user of the organisation, or "not found".
pub async fn load(
    store: &dyn crate::store::Store,
    org: &crate::domain::OrgSlug,
    id: &UserId,
) -> Result<super::Versioned<User>, crate::AppError> {
    super::get(store, &super::keys::user(org, id)).await?.ok_or(crate::AppError::NotFound("employee"))
}

/// When each of these users last logged in (one batch get per 100 users); users who never did
/// are absent.
pub async fn last_logins(
    store: &dyn crate::store::Store,
    org: &OrgSlug,
    ids: &[UserId],
) -> Result<std::collections::HashMap<UserId, DateTime<Utc>>, crate::AppError> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(crate::store::MAX_BATCH_GET) {
        let wanted: Vec<_> = chunk.iter().map(|id| super::keys::last_login(org, id)).collect();
        for item in store.batch_get(&wanted).await? {
            if let Some(i) = wanted.iter().position(|k| *k == item.key) {
                out.insert(chunk[i], item.parse::<LastLogin>()?.at);
            }
        }
    }
    Ok(out)
}
