//! Users and their credentials. Employees, client users and integration users share one id
//! space; employee profile fields sit on the user record. The password hash lives in a separate
//! item so that no listing ever reads it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::site::Address;
use crate::domain::{Email, Phone, UserId, Username};

pub const KIND: &str = "user";
pub const CREDENTIAL_KIND: &str = "credential";
pub const LOGIN_KIND: &str = "login";
pub const EMPLOYEE_NUMBER_KIND: &str = "employee-number";
pub const SITE_ASSIGNMENT_KIND: &str = "site-assignment";
pub const LOGIN_FAILURES_KIND: &str = "login-failures";
pub const LOGIN_ACTIVITY_KIND: &str = "login-activity";

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
    pub sessions_valid_after: DateTime<Utc>,
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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
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
            created_at: now,
            updated_at: now,
        }
    }

    pub fn may_log_in(&self) -> bool {
        self.status == UserStatus::Active && self.can_login
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Credential {
    /// Argon2id PHC string; `None` until the user sets a password.
    pub password_hash: Option<String>,
    pub changed_at: DateTime<Utc>,
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
