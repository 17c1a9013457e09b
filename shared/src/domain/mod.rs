//! Validated newtypes: input is parsed into these at the boundary, and the inside never
//! re-checks. Each parser says what is wrong in words a person can act on.

mod contact;
mod ids;
pub mod schema;
mod text;
mod time;
mod time_zone;
pub mod utc;

pub use contact::{Email, Phone, PhoneE164};
pub use ids::{
    AssignmentId, FileId, IdError, OrgSlug, RegionId, RoleId, SessionId, ShiftId, SiteId, TimeEntryId, UserId,
};
pub use text::{BoundedText, Comment, Name, Secret, ShortText, Tag, Username};
pub use time::{Day, TimeError, Timestamp};
pub use time_zone::TimeZone;

use serde::Serialize;

/// One reason a field was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, as a JSON pointer-ish path (`main_phone.number`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Collects field errors while a request body is parsed into domain values, so a client hears
/// about every problem at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `value` with `parse`, recording the error under `field`.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: &str, value: Result<T, E>) -> Option<T> {
        match value {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(FieldError::new(field, e.to_string()));
                None
            }
        }
    }

    /// Like [`Validator::check`] for an optional input.
    pub fn check_opt<T, E: std::fmt::Display>(&mut self, field: &str, value: Option<Result<T, E>>) -> Option<T> {
        value.and_then(|v| self.check(field, v))
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors, if any; call once every field is checked.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() { Ok(()) } else { Err(self.errors) }
    }
}
