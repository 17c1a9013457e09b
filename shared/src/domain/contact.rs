//! Email addresses and phone numbers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An email address, stored in lower case (logins compare case-insensitively).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContactError {
    #[error("is not a valid email address")]
    Email,
    #[error("must be at most 254 characters")]
    EmailTooLong,
    #[error("is not a valid phone number: write it in international form, e.g. +14165550123")]
    Phone,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ContactError> {
        let text = raw.trim();
        if text.len() > 254 {
            return Err(ContactError::EmailTooLong);
        }
        // The library parses RFC 5322 addr-spec; we also insist on a dotted domain and refuse
        // the quoted and bracketed forms no real user types, which keeps headers simple.
        let parsed = email_address::EmailAddress::from_str(text).map_err(|_| ContactError::Email)?;
        // The library also accepts a display name (`Anything <a@b.co>`), whose text it does not
        // check (line breaks included): only the bare address is an address here.
        if parsed.email() != text {
            return Err(ContactError::Email);
        }
        let domain = parsed.domain();
        let local = parsed.local_part();
        let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic() && !"\"()<>[]\\,;:".contains(c));
        if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') || !plain(local) || !plain(domain)
        {
            return Err(ContactError::Email);
        }
        Ok(Self(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164 form (`+14165550123`), checked against the numbering plan.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhoneE164(String);

impl PhoneE164 {
    pub fn parse(raw: &str) -> Result<Self, ContactError> {
        let text = raw.trim();
        if text.len() > 32 || !text.starts_with('+') {
            return Err(ContactError::Phone);
        }
        let number = phonenumber::parse(None, text).map_err(|_| ContactError::Phone)?;
        if !phonenumber::is_valid(&number) {
            return Err(ContactError::Phone);
        }
        Ok(Self(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone with the owner's consent to SMS alerts on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Phone {
    /// E.164, e.g. `+14165550123`.
    #[schema(value_type = String, example = "+14165550123")]
    pub number: PhoneE164,
    pub sms_enabled: bool,
    /// SecurityTrax: a private number never shows in the employee directory, whoever asks.
    /// (Records written before the flag existed read as not private.)
    #[serde(default)]
    pub private: bool,
}

impl Phone {
    pub fn new(number: PhoneE164, sms_enabled: bool) -> Self {
        Self { number, sms_enabled, private: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_display_name_is_not_an_address() {
        assert!(Email::parse("Anything <a@b.co>").is_err());
        assert!(Email::parse("x\r\nBcc: victim@evil.example <a@b.co>").is_err());
        assert_eq!(Email::parse(" A@B.co ").map(|e| e.as_str().to_owned()), Ok("a@b.co".to_owned()));
    }

    #[test]
    fn emails_are_lowercased_and_need_a_dotted_domain() {
        assert_eq!(Email::parse(" Ada@Demo.Example ").map(|e| e.0), Ok("ada@demo.example".into()));
        for bad in ["ada", "ada@", "@x.com", "ada@localhost", "a b@x.com", "ada@x.com\r\nBcc: y@z.com", "\"a\"@x.com"] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn phones_are_normalised_to_e164() {
        assert_eq!(PhoneE164::parse("+1 (416) 555-0123").map(|p| p.0), Ok("+14165550123".into()));
        assert_eq!(PhoneE164::parse("+44 20 7946 0958").map(|p| p.0), Ok("+442079460958".into()));
        assert!(PhoneE164::parse("4165550123").is_err(), "no country code");
        assert!(PhoneE164::parse("+1 555").is_err());
        assert!(PhoneE164::parse("+999 12345678").is_err());
    }

    proptest! {
        #[test]
        fn parsed_emails_are_header_safe(s in ".{0,300}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert!(e.as_str().chars().all(|c| c.is_ascii_graphic()));
                prop_assert!(e.as_str().contains('@'));
            }
        }

        #[test]
        fn parsed_phones_are_plus_and_digits(s in "\\+?[0-9 ()-]{0,20}") {
            if let Ok(p) = PhoneE164::parse(&s) {
                prop_assert!(p.as_str().starts_with('+'));
                prop_assert!(p.as_str()[1..].chars().all(|c| c.is_ascii_digit()));
                prop_assert!(p.as_str().len() <= 16);
            }
        }
    }
}
