//! Bounded text fields. Control characters are refused everywhere (they end up in emails,
//! logs and CSV exports); surrounding whitespace is trimmed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A trimmed string of `MIN..=MAX` characters without control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BoundedText<const MIN: usize, const MAX: usize>(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TextError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at least {0} characters")]
    TooShort(usize),
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters or line breaks")]
    Control,
    #[error("{0}")]
    Pattern(&'static str),
}

impl<const MIN: usize, const MAX: usize> BoundedText<MIN, MAX> {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        // Counted as sent, too: the document's maxLength is on what the client sends.
        if raw.chars().count() > MAX {
            return Err(TextError::TooLong(MAX));
        }
        let text = raw.trim();
        let len = text.chars().count();
        if len == 0 && MIN > 0 {
            return Err(TextError::Empty);
        }
        if len < MIN {
            return Err(TextError::TooShort(MIN));
        }
        if len > MAX {
            return Err(TextError::TooLong(MAX));
        }
        if text.chars().any(char::is_control) {
            return Err(TextError::Control);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<const MIN: usize, const MAX: usize> fmt::Display for BoundedText<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Names of people, sites, regions.
pub type Name = BoundedText<1, 100>;
/// Job titles, address lines and other short fields.
pub type ShortText = BoundedText<0, 200>;
/// A tag on an employee.
pub type Tag = BoundedText<1, 50>;

/// Free-text comments; line breaks allowed, other control characters not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Comment(String);

impl Comment {
    pub const MAX: usize = 4000;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let text = raw.trim();
        if text.chars().count() > Self::MAX {
            return Err(TextError::TooLong(Self::MAX));
        }
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
            return Err(TextError::Control);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A login name: 3 to 64 of `a-z 0-9 . _ -`, starting with a letter or digit, stored in lower
/// case. It cannot contain `@`, so it never collides with an email login.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let name = raw.trim().to_ascii_lowercase();
        let len = name.chars().count();
        if len < 3 {
            return Err(TextError::TooShort(3));
        }
        if len > 64 {
            return Err(TextError::TooLong(64));
        }
        let ok_first = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        let ok_rest = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok_first || !ok_rest {
            return Err(TextError::Pattern(
                "may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_length_counts_as_sent() {
        assert!(Name::parse(&format!("  {}  ", "a".repeat(96))).is_ok());
        assert_eq!(Name::parse(&format!("  {}  ", "a".repeat(97))).map(|_| ()), Err(TextError::TooLong(100)));
    }
    use proptest::prelude::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Ada ").map(|n| n.into_inner()), Ok("Ada".to_owned()));
        assert_eq!(Name::parse("   "), Err(TextError::Empty));
        assert_eq!(Name::parse(&"x".repeat(101)), Err(TextError::TooLong(100)));
        assert_eq!(Name::parse("a\r\nBcc: x"), Err(TextError::Control));
    }

    #[test]
    fn usernames_are_lowercased_and_never_look_like_emails() {
        assert_eq!(Username::parse("Ada.Guard").map(|u| u.0), Ok("ada.guard".to_owned()));
        assert!(Username::parse("ada@x.com").is_err());
        assert!(Username::parse("-ada").is_err());
        assert!(Username::parse("ab").is_err());
    }

    proptest! {
        #[test]
        fn parsed_names_never_hold_control_characters(s in "\\PC*|.*") {
            if let Ok(name) = Name::parse(&s) {
                prop_assert!(!name.as_str().chars().any(char::is_control));
                prop_assert!(name.as_str().chars().count() <= 100);
                prop_assert!(!name.as_str().is_empty());
            }
        }

        #[test]
        fn parsed_usernames_are_valid_login_keys(s in ".{0,80}") {
            if let Ok(u) = Username::parse(&s) {
                prop_assert!(!u.as_str().contains('@'));
                prop_assert!(!u.as_str().contains('#'));
                prop_assert_eq!(u.as_str().to_ascii_lowercase(), u.as_str());
            }
        }
    }
}

/// A secret typed by a person (a password): kept out of `Debug` output and so out of logs.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn into_exposed(self) -> String {
        self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl utoipa::PartialSchema for Secret {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Password)))
            .into()
    }
}

impl utoipa::ToSchema for Secret {}
