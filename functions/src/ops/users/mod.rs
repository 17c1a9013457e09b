//! Users of every kind: flags only superusers change, and how a new user is written.

pub mod directory;
pub mod login_activity;
pub(crate) mod new;
pub mod set_superuser;

use guardpost_shared::domain::{Phone, PhoneE164, Validator};
use serde::Deserialize;
use utoipa::ToSchema;

/// A phone number as a client sends it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneInput {
    /// International form; stored as E.164.
    pub number: String,
    /// The owner agreed to SMS alerts on this number.
    #[serde(default)]
    pub sms_enabled: bool,
    /// Never shown in the employee directory.
    #[serde(default)]
    pub private: bool,
}

impl PhoneInput {
    pub fn parse(&self, v: &mut Validator, field: &str) -> Option<Phone> {
        let number = v.check(&format!("{field}.number"), PhoneE164::parse(&self.number))?;
        Some(Phone { number, sms_enabled: self.sms_enabled, private: self.private })
    }
}
