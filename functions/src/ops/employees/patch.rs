//! The body of `PATCH /v1/employees/{employee_id}` (JSON merge patch: an absent field is left as
//! it is, `null` clears it) and how it applies to an employee: every field of TrackTik's "Create
//! an Employee" and SecurityTrax's user (HR settings, private numbers, "Can SMS Users",
//! "Active", "Can Login", directory access). Every field is checked, and every problem reported
//! at once.

use chrono::{Datelike, NaiveDate};
use guardpost_shared::access::schema::Reason;
use guardpost_shared::domain::{
    BoundedText, Comment, Email, Name, ShortText, Tag, UserId, Username, Validator, schema,
};
use guardpost_shared::http::present;
use guardpost_shared::records::site::Address;
use guardpost_shared::records::user::{DirectoryAccess, Gender, User, UserStatus};
use serde::Deserialize;
use utoipa::ToSchema;

use super::create::employee_number;
use crate::ops::users::{PhoneInput, fields};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmployeePatch {
    #[schema(value_type = Option<fields::EmployeeNumber>)]
    pub employee_number: Option<String>,
    #[schema(value_type = Option<schema::Name>)]
    pub first_name: Option<String>,
    #[schema(value_type = Option<schema::Name>)]
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<schema::ShortText>)]
    pub job_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<PhoneInput>)]
    pub main_phone: Option<Option<PhoneInput>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<PhoneInput>)]
    pub other_phone: Option<Option<PhoneInput>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Gender>)]
    pub gender: Option<Option<Gender>>,
    /// A login; unique per organisation. An employee keeps an email or a username.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<fields::EmailAddress>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<fields::Username>)]
    pub username: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Address>)]
    pub address: Option<Option<Address>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<fields::Birthday>)]
    pub birthday: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<fields::WorkDay>)]
    pub employment_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<fields::Comment>)]
    pub comments: Option<Option<String>>,
    /// Replaces the tags (at most 50).
    #[schema(value_type = Option<Vec<schema::Tag>>, max_items = 50)]
    pub tags: Option<Vec<String>>,
    pub hr: Option<HrPatch>,
    pub can_sms_users: Option<bool>,
    /// `false` deactivates the employee (nothing is deleted): no login, sessions end.
    pub active: Option<bool>,
    /// `false` keeps an active employee from logging in: sessions end.
    pub can_login: Option<bool>,
    /// `null`: the default of the user's kind.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DirectoryAccess>)]
    pub directory_access: Option<Option<DirectoryAccess>>,
}

/// SecurityTrax's HR settings, each field merge-patched.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HrPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<fields::WorkDay>)]
    pub hire_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<fields::WorkDay>)]
    pub start_date: Option<Option<NaiveDate>>,
    /// Not before the start date.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<fields::WorkDay>)]
    pub last_day: Option<Option<NaiveDate>>,
    /// A user of the organisation.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<schema::Id>)]
    pub recruited_by: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<fields::PayrollId>)]
    pub payroll_id: Option<Option<String>>,
    /// Trimmed, 1 to 100 characters, no control characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<schema::Name>)]
    pub title: Option<Option<String>>,
    /// Trimmed, 1 to 100 characters, no control characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<schema::Name>)]
    pub title_designation: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Reason>)]
    pub leave_reason: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<fields::WorkDay>)]
    pub transfer_date: Option<Option<NaiveDate>>,
    /// An employee of the organisation, not oneself, and never a cycle.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<schema::Id>)]
    pub reports_to: Option<Option<String>>,
}

/// Sets `slot` from a merge-patch field: absent leaves it, `null` clears it, a value is parsed.
fn merge<T, R, E: std::fmt::Display>(
    v: &mut Validator,
    field: &str,
    patch: &Option<Option<R>>,
    slot: &mut Option<T>,
    parse: impl FnOnce(&R) -> Result<T, E>,
) {
    match patch {
        None => {}
        Some(None) => *slot = None,
        Some(Some(raw)) => {
            if let Some(value) = v.check(field, parse(raw)) {
                *slot = Some(value);
            }
        }
    }
}

fn text<const MIN: usize, const MAX: usize>(raw: &str) -> Result<String, String> {
    BoundedText::<MIN, MAX>::parse(raw).map(BoundedText::into_inner).map_err(|e| e.to_string())
}

fn date_in(from_year: i32, latest: NaiveDate) -> impl Fn(&NaiveDate) -> Result<NaiveDate, String> {
    move |d: &NaiveDate| {
        if d.year() < from_year || *d > latest {
            Err(format!("must be between {from_year} and {latest}"))
        } else {
            Ok(*d)
        }
    }
}

fn user_id(raw: &str) -> Result<UserId, &'static str> {
    UserId::parse(raw).map_err(|_| "is not a user id")
}

impl EmployeePatch {
    /// Applies the patch to `user`, recording every bad field in `v`.
    pub fn apply(&self, user: &mut User, today: NaiveDate, v: &mut Validator) {
        if let Some(n) = v.check_opt("employee_number", self.employee_number.as_deref().map(employee_number)) {
            user.employee_number = Some(n);
        }
        if let Some(n) = v.check_opt("first_name", self.first_name.as_deref().map(Name::parse)) {
            user.first_name = n.into_inner();
        }
        if let Some(n) = v.check_opt("last_name", self.last_name.as_deref().map(Name::parse)) {
            user.last_name = n.into_inner();
        }
        merge(v, "job_title", &self.job_title, &mut user.job_title, |s| {
            ShortText::parse(s).map(BoundedText::into_inner)
        });
        for (field, patch, slot) in [
            ("main_phone", &self.main_phone, &mut user.main_phone),
            ("other_phone", &self.other_phone, &mut user.other_phone),
        ] {
            match patch {
                None => {}
                Some(None) => *slot = None,
                Some(Some(p)) => {
                    if let Some(phone) = p.parse(v, field) {
                        *slot = Some(phone);
                    }
                }
            }
        }
        merge(v, "gender", &self.gender, &mut user.gender, |g| Ok::<_, &str>(*g));
        merge(v, "email", &self.email, &mut user.email, |e| Email::parse(e));
        merge(v, "username", &self.username, &mut user.username, |u| Username::parse(u));
        if user.email.is_none() && user.username.is_none() {
            v.fail("email", "an employee keeps an email or a username to log in");
        }
        match &self.address {
            None => {}
            Some(None) => user.address = None,
            Some(Some(a)) => user.address = Address::parse(a, "address", v),
        }
        merge(v, "birthday", &self.birthday, &mut user.birthday, |b: &NaiveDate| {
            if *b >= today || b.year() < 1900 { Err("must be a past date after 1900") } else { Ok(*b) }
        });
        let year_ahead = today + chrono::Duration::days(366);
        merge(v, "employment_date", &self.employment_date, &mut user.employment_date, date_in(1950, year_ahead));
        merge(v, "comments", &self.comments, &mut user.comments, |c| Comment::parse(c).map(|c| c.as_str().to_owned()));
        if let Some(tags) = &self.tags {
            let mut parsed = Vec::new();
            for (i, t) in tags.iter().enumerate() {
                if let Some(tag) = v.check(&format!("tags[{i}]"), Tag::parse(t)) {
                    parsed.push(tag.into_inner());
                }
            }
            if parsed.len() > 50 {
                v.fail("tags", "at most 50 tags");
            }
            parsed.sort();
            parsed.dedup();
            user.tags = parsed;
        }
        if let Some(hr) = &self.hr {
            hr.apply(user, year_ahead, v);
        }
        if let Some(flag) = self.can_sms_users {
            user.can_sms_users = flag;
        }
        if let Some(flag) = self.can_login {
            user.can_login = flag;
        }
        if let Some(active) = self.active {
            match (active, user.status) {
                (_, UserStatus::Terminated) => {
                    v.fail("active", "the employee is terminated: reactivate them (POST .../reactivate) first");
                }
                (true, _) => user.status = UserStatus::Active,
                (false, _) => user.status = UserStatus::Inactive,
            }
        }
        if let Some(level) = self.directory_access {
            user.directory_access = level;
        }
    }
}

impl HrPatch {
    fn apply(&self, user: &mut User, latest: NaiveDate, v: &mut Validator) {
        let hr = &mut user.hr;
        merge(v, "hr.hire_date", &self.hire_date, &mut hr.hire_date, date_in(1950, latest));
        merge(v, "hr.start_date", &self.start_date, &mut hr.start_date, date_in(1950, latest));
        merge(v, "hr.last_day", &self.last_day, &mut hr.last_day, date_in(1950, latest));
        merge(v, "hr.transfer_date", &self.transfer_date, &mut hr.transfer_date, date_in(1950, latest));
        merge(v, "hr.recruited_by", &self.recruited_by, &mut hr.recruited_by, |s| user_id(s));
        merge(v, "hr.reports_to", &self.reports_to, &mut hr.reports_to, |s| user_id(s));
        merge(v, "hr.payroll_id", &self.payroll_id, &mut hr.payroll_id, |s| text::<1, 64>(s));
        merge(v, "hr.title", &self.title, &mut hr.title, |s| text::<1, 100>(s));
        merge(v, "hr.title_designation", &self.title_designation, &mut hr.title_designation, |s| text::<1, 100>(s));
        merge(v, "hr.leave_reason", &self.leave_reason, &mut hr.leave_reason, |s| text::<1, 500>(s));
        if let (Some(start), Some(end)) = (hr.start_date, hr.last_day)
            && end < start
        {
            v.fail("hr.last_day", "must not be before the start date");
        }
        if hr.reports_to == Some(user.id) {
            v.fail("hr.reports_to", "an employee does not report to themselves");
        }
    }
}
