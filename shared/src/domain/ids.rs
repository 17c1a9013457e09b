//! Identifiers. Entity ids are ULIDs; the organisation is named by its slug, which is also its
//! tenant key (first in every partition key), so it never changes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("is not a valid id")]
    Id,
    #[error("must be 2 to 40 of a-z, 0-9 and '-', starting with a letter or digit")]
    Slug,
}

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(ulid::Ulid);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                // Ids are printed in upper case; accept either.
                ulid::Ulid::from_str(raw.trim()).map(Self).map_err(|_| IdError::Id)
            }
            pub fn from_ulid(id: ulid::Ulid) -> Self {
                Self(id)
            }
            /// When the id was made (a ULID carries its creation time, to the millisecond).
            pub fn timestamp(&self) -> std::time::SystemTime {
                self.0.datetime()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }
    };
}

ulid_id!(
    /// A user: employee, client user or integration user share one id space.
    UserId
);
ulid_id!(SiteId);
ulid_id!(RegionId);
ulid_id!(
    /// A login session (the `sid` claim of access tokens).
    SessionId
);
ulid_id!(
    /// A scheduled or unplanned shift.
    ShiftId
);
ulid_id!(
    /// A time entry: one clock-in to clock-out, with its breaks.
    TimeEntryId
);

ulid_id!(
    /// A role assignment: one user, one role, one scope.
    AssignmentId
);
ulid_id!(
    /// A file kept for a user (licence, certification, picture).
    FileId
);

/// A role: the fixed slug of a default role (`administrator`, `guard`, ...) or the ULID of a
/// custom one. Default roles have the same id in every organisation, so scripts can name them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleId(String);

impl RoleId {
    pub const DEFAULTS: [&'static str; 6] = ["administrator", "manager", "supervisor", "guard", "client", "terminated"];

    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let s = raw.trim();
        if let Some(default) = Self::DEFAULTS.iter().find(|d| d.eq_ignore_ascii_case(s)) {
            return Ok(Self((*default).to_owned()));
        }
        ulid::Ulid::from_str(s).map(|u| Self(u.to_string())).map_err(|_| IdError::Id)
    }
    pub fn from_ulid(id: ulid::Ulid) -> Self {
        Self(id.to_string())
    }
    /// The id of a default role, e.g. `RoleId::default_role("guard")`.
    pub fn default_role(slug: &'static str) -> Self {
        debug_assert!(Self::DEFAULTS.contains(&slug));
        Self(slug.to_owned())
    }
    pub fn is_default(&self) -> bool {
        Self::DEFAULTS.contains(&self.0.as_str())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RoleId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<RoleId> for String {
    fn from(s: RoleId) -> String {
        s.0
    }
}

/// An organisation's slug, e.g. `demo`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgSlug(String);

impl OrgSlug {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let s = raw.trim();
        let ok = (2..=40).contains(&s.len())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if ok { Ok(Self(s.to_owned())) } else { Err(IdError::Slug) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for OrgSlug {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<OrgSlug> for String {
    fn from(s: OrgSlug) -> String {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_cannot_smuggle_key_separators() {
        assert!(OrgSlug::parse("demo").is_ok());
        assert!(OrgSlug::parse("acme-security-2").is_ok());
        for bad in ["d", "Demo", "a#b", "-x", "a b", ""] {
            assert!(OrgSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ulid_ids_round_trip_through_strings() {
        let id = SiteId::parse("01JDQ5X0000000000000000000").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(SiteId::parse(&id.to_string()), Ok(id));
        assert!(SiteId::parse("not-an-id").is_err());
    }
}
