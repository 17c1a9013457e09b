//! Instants and days as clients send them, bounded at the boundary to RFC 3339's own years, 0000
//! to 9999 (as written, and in UTC, so that every stored instant can be written back in RFC
//! 3339). chrono accepts years from -262143 to 262142, and adding an hour to its last instant
//! overflows (a panic); nothing outside RFC 3339's range gets in, so date arithmetic on what does
//! cannot overflow. This is what the OpenAPI document's `format: date-time` / `date` says, but
//! for instants within a day of year 0000's start or year 9999's end whose offset carries them
//! out of it.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};

pub const MIN_YEAR: i32 = 0;
pub const MAX_YEAR: i32 = 9999;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimeError {
    #[error("must be an RFC 3339 time, e.g. 2026-11-22T08:00:00Z")]
    Format,
    #[error("must be a date, e.g. 2026-11-22")]
    DateFormat,
    #[error("must be between the years 0000 and 9999 (RFC 3339)")]
    Range,
}

fn in_range(year: i32) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&year)
}

/// An instant written with a year from 0000 to 9999, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn parse(raw: &str) -> Result<Self, TimeError> {
        let t = DateTime::parse_from_rfc3339(raw.trim()).map_err(|_| TimeError::Format)?;
        // The year as written, and in UTC: the instant must also be written back in RFC 3339
        // (`0000-01-01T00:00:00+01:00` is UTC year -1, which RFC 3339 cannot write).
        if in_range(t.year()) { Self::new(t.with_timezone(&Utc)) } else { Err(TimeError::Range) }
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
            .description(Some("RFC 3339 date-time (years 0000 to 9999)"))
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

/// A calendar day, years 0000 to 9999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Day(NaiveDate);

impl Day {
    pub fn parse(raw: &str) -> Result<Self, TimeError> {
        let text = raw.trim();
        // Exactly YYYY-MM-DD: chrono's `%Y-%m-%d` would also take `26-1-5` or `+2026-01-05`.
        let shaped = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
        if !shaped {
            return Err(TimeError::DateFormat);
        }
        Self::new(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| TimeError::DateFormat)?)
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
            .description(Some("YYYY-MM-DD (RFC 3339 full-date)"))
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
            ["-262143-01-01T00:00:00Z", "+262142-12-31T23:59:59Z", "+10000-01-01T00:00:00Z", "-0001-12-31T23:59:59Z"]
        {
            assert!(Timestamp::parse(raw).is_err(), "{raw}");
        }
        for raw in ["2026-11-22T08:00:00+01:00", "9999-12-31T23:59:59+01:00", "0000-01-01T00:00:00-01:00"] {
            assert!(Timestamp::parse(raw).is_ok(), "{raw}");
        }
        // Valid RFC 3339, but UTC years RFC 3339 cannot write back.
        for raw in ["9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00+01:00"] {
            assert!(Timestamp::parse(raw).is_err(), "{raw}");
        }
        assert!(Day::parse("2026-02-30").is_err());
        assert!(Day::parse("+10000-01-01").is_err());
        assert!(Day::parse("0000-01-01").is_ok());
        for loose in ["26-11-22", "2026-1-5", "+2026-01-05", "2026-01-05x"] {
            assert!(Day::parse(loose).is_err(), "{loose}");
        }
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
