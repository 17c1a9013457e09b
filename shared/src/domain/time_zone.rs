use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IANA time zone name (`America/Toronto`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("is not an IANA time zone name (for example America/Toronto or Europe/London)")]
pub struct TimeZoneError;

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, TimeZoneError> {
        chrono_tz::Tz::from_str(raw.trim()).map(Self).map_err(|_| TimeZoneError)
    }
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_parse_and_others_do_not() {
        assert_eq!(TimeZone::parse("America/Toronto").map(|t| t.name()), Ok("America/Toronto"));
        assert!(TimeZone::parse("Mars/Olympus").is_err());
        assert!(TimeZone::parse("EST5EDT-ish").is_err());
    }
}
