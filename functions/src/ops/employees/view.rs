//! How an employee is shown. Never includes credentials; the sensitive fields only to holders
//! of `employees:view-sensitive`.

use chrono::{DateTime, NaiveDate, Utc};
use guardpost_shared::domain::Phone;
use guardpost_shared::domain::utc;
use guardpost_shared::records::site::Address;
use guardpost_shared::records::user::{DirectoryAccess, Gender, HrSettings, User, UserKind, UserStatus};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeView {
    pub id: String,
    pub kind: UserKind,
    pub employee_number: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub job_title: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub main_phone: Option<Phone>,
    pub other_phone: Option<Phone>,
    pub gender: Option<Gender>,
    pub address: Option<Address>,
    pub birthday: Option<NaiveDate>,
    pub employment_date: Option<NaiveDate>,
    pub comments: Option<String>,
    pub tags: Vec<String>,
    pub is_superuser: bool,
    /// True when birthday, personal phone and address were left out (no
    /// `employees:view-sensitive`).
    pub sensitive_hidden: bool,
    pub status: UserStatus,
    pub can_login: bool,
    /// SecurityTrax's "Can SMS Users".
    pub can_sms_users: bool,
    /// What the user sees of the employee directory (the default of their kind when not set).
    pub directory_access: DirectoryAccess,
    /// SecurityTrax's HR settings; `payroll_id` and `leave_reason` only with
    /// `employees:view-sensitive`.
    pub hr: HrSettings,
    /// When the user last logged in.
    #[serde(default, with = "utc::option")]
    pub last_login_at: Option<DateTime<Utc>>,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "utc")]
    pub updated_at: DateTime<Utc>,
}

impl EmployeeView {
    /// Without the sensitive fields (birthday, personal phone, address): what callers without
    /// `employees:view-sensitive` see.
    pub fn redacted(self) -> Self {
        let hr = HrSettings { payroll_id: None, leave_reason: None, ..self.hr };
        Self { other_phone: None, address: None, birthday: None, sensitive_hidden: true, hr, ..self }
    }

    pub fn with_last_login(self, at: Option<DateTime<Utc>>) -> Self {
        Self { last_login_at: at, ..self }
    }

    pub fn shown(user: &User, sensitive: bool) -> Self {
        let view = Self::from(user);
        if sensitive { view } else { view.redacted() }
    }
}

impl From<&User> for EmployeeView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            kind: u.kind,
            employee_number: u.employee_number.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            job_title: u.job_title.clone(),
            email: u.email.as_ref().map(|e| e.as_str().to_owned()),
            username: u.username.as_ref().map(|n| n.as_str().to_owned()),
            main_phone: u.main_phone.clone(),
            other_phone: u.other_phone.clone(),
            gender: u.gender,
            address: u.address.clone(),
            birthday: u.birthday,
            employment_date: u.employment_date,
            comments: u.comments.clone(),
            tags: u.tags.clone(),
            is_superuser: u.is_superuser,
            sensitive_hidden: false,
            status: u.status,
            can_login: u.can_login,
            can_sms_users: u.can_sms_users,
            directory_access: u.directory_level(),
            hr: u.hr.clone(),
            last_login_at: None,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}
