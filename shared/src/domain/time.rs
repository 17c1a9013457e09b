//! Instants and days as clients send them, bounded to a sane range at the boundary. chrono
//! accepts years from -262143 to 262142, and adding an hour to its last instant overflows (a
//! panic); no shift, assignment or licence of a security company lies outside 1970 to 2200, so
//! nothing outside it gets in, and date arithmetic on what does cannot overflow.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};

pub const MIN_YEAR: i32 = 1970;
pub const MAX_YEAR: i32 = 2200;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimeError {
    #[error("must be an RFC 3339 time, e.g. 2026-11-22T08:00:00Z")]
    Format,
    #[error("must be a date, e.g. 2026-11-22")]
    DateFormat,
    #[error("must be between the years 1970 and 2200")]
    Range,
}

fn in_range(year: i32) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&year)
}

/// An instant between 1970 and 2200, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn parse(raw: &str) -> Result<Self, TimeError> {
        let t = DateTime::parse_from_rfc3339(raw.trim()).map_err(|_| TimeError::Format)?.with_timezone(&Utc);
        Self::new(t)
    }

    pub fn new(t: DateTime<Utc>) -> Result<Self, TimeError> {
        if in_range(t.year()) { Ok(Self(t)) } else { Err(TimeError::Range) }
    }

    pub fn get(self) -> DateTime<Utc> {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)))
            .description(Some("RFC 3339, between the years 1970 and 2200"))
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

/// A calendar day between 1970 and 2200.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Day(NaiveDate);

impl Day {
    pub fn parse(raw: &str) -> Result<Self, TimeError> {
        Self::new(NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| TimeError::DateFormat)?)
    }

    pub fn new(d: NaiveDate) -> Result<Self, TimeError> {
        if in_range(d.year()) { Ok(Self(d)) } else { Err(TimeError::Range) }
    }

    pub fn get(self) -> NaiveDate {
        self.0
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Day {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Date)))
            .description(Some("YYYY-MM-DD, between the years 1970 and 2200"))
            .into()
    }
}

impl utoipa::ToSchema for Day {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_extremes_chrono_accepts_are_refused() {
        for raw in
            ["-262143-01-01T00:00:00Z", "+262142-12-31T23:59:59Z", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z"]
        {
            assert!(Timestamp::parse(raw).is_err(), "{raw}");
        }
        assert!(Timestamp::parse("2026-11-22T08:00:00+01:00").is_ok());
        assert!(Day::parse("2026-02-30").is_err());
        assert!(Day::parse("2201-01-01").is_err());
    }

    proptest! {
        #[test]
        fn an_accepted_instant_survives_a_years_arithmetic(s in "[+-]?[0-9]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})") {
            if let Ok(t) = Timestamp::parse(&s) {
                let year = chrono::Duration::days(366);
                prop_assert!(t.get().checked_add_signed(year).is_some() && t.get().checked_sub_signed(year).is_some());
            }
        }
    }
}
