//! Instants in UTC to and from RFC 3339 text, exactly as chrono's own serde does it, without
//! chrono's formatter and parser on the common path. Use on a `DateTime<Utc>` field as
//! `#[serde(with = "utc")]`, on an `Option<DateTime<Utc>>` as
//! `#[serde(default, with = "utc::option")]` (`with` alone would make a missing field an error).
//!
//! chrono writes an instant through `fmt` one character at a time and parses it with its
//! general RFC 3339 parser: together a quarter of the instructions of listing 20 sites
//! (docs/BENCHMARKS.md, "Instructions per request"). Here the text chrono writes
//! (`2026-11-22T08:00:00Z`, with 3, 6 or 9 digits of fraction when the instant has one) is
//! written into a buffer and read back directly; anything else (another offset, a leap second,
//! a year outside 0000-9999) goes to chrono, so the values read and written are the same.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};
use serde::{Deserializer, Serializer, de};

pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buffer = [0u8; 32];
    match write(t, &mut buffer) {
        // Only ASCII digits and separators were written.
        Some(len) => s.serialize_str(std::str::from_utf8(&buffer[..len]).unwrap_or_default()),
        None => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(Visitor)
}

/// For `Option<DateTime<Utc>>` fields.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&With(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        d.deserialize_option(OptionVisitor)
    }

    struct With<'a>(&'a DateTime<Utc>);

    impl serde::Serialize for With<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::serialize(self.0, s)
        }
    }

    struct OptionVisitor;

    impl<'de> de::Visitor<'de> for OptionVisitor {
        type Value = Option<DateTime<Utc>>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an RFC 3339 date and time, or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            super::deserialize(d).map(Some)
        }
    }
}

struct Visitor;

impl de::Visitor<'_> for Visitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an RFC 3339 date and time")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        match read(text.as_bytes()) {
            Some(t) => Ok(t),
            // What chrono's own `Deserialize` does.
            None => text.parse::<DateTime<chrono::FixedOffset>>().map(|t| t.with_timezone(&Utc)).map_err(E::custom),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff[fff[fff]]]Z` into `out`, as chrono's `AutoSi` writes it; `None`
/// for what chrono writes otherwise (a year outside 0000-9999, a leap second).
fn write(t: &DateTime<Utc>, out: &mut [u8; 32]) -> Option<usize> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut at = 0;
    let mut put = |n: u32, digits: u32, after: Option<u8>| {
        for i in (0..digits).rev() {
            out[at] = b'0' + ((n / 10u32.pow(i)) % 10) as u8;
            at += 1;
        }
        if let Some(c) = after {
            out[at] = c;
            at += 1;
        }
    };
    put(year, 4, Some(b'-'));
    put(t.month(), 2, Some(b'-'));
    put(t.day(), 2, Some(b'T'));
    put(t.hour(), 2, Some(b':'));
    put(t.minute(), 2, Some(b':'));
    put(t.second(), 2, None);
    if nanos != 0 {
        let (value, digits) = if nanos.is_multiple_of(1_000_000) {
            (nanos / 1_000_000, 3)
        } else if nanos.is_multiple_of(1_000) {
            (nanos / 1_000, 6)
        } else {
            (nanos, 9)
        };
        put(0, 0, Some(b'.'));
        put(value, digits, None);
    }
    put(0, 0, Some(b'Z'));
    Some(at)
}

/// The form [`write`] writes, with 1 to 9 digits of fraction; `None` for anything else,
/// including dates and times that do not exist.
fn read(text: &[u8]) -> Option<DateTime<Utc>> {
    let number = |from: usize, len: usize| -> Option<u32> {
        let digits = text.get(from..from + len)?;
        digits.iter().try_fold(0u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if text.len() < 20 || text.last() != Some(&b'Z') || separators.iter().any(|(at, c)| text[*at] != *c) {
        return None;
    }
    let nanos = match &text[19..text.len() - 1] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            number(20, fraction.len())? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(number(0, 4)? as i32, number(5, 2)?, number(8, 2)?)?;
    let time = date.and_hms_nano_opt(number(11, 2)?, number(14, 2)?, number(17, 2)?, nanos)?;
    // A second of 60 is a leap second: chrono's parser knows its rules.
    (number(17, 2)? < 60).then(|| time.and_utc())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Fast {
        #[serde(with = "super")]
        at: DateTime<Utc>,
        #[serde(default, with = "super::option")]
        until: Option<DateTime<Utc>>,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Chrono {
        at: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
    }

    fn instants() -> Vec<DateTime<Utc>> {
        let base = Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap();
        let mut all = vec![
            base,
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(2024, 2, 29, 12, 30, 5).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
        ];
        for nanos in [1, 10, 100_000_000, 120_000_000, 123_000_000, 123_400_000, 123_456_000, 123_456_789, 999_999_999]
        {
            all.push(base + chrono::Duration::nanoseconds(nanos));
        }
        // A leap second, which only chrono writes.
        all.push(
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
                .unwrap()
                .and_utc(),
        );
        all
    }

    #[test]
    fn instants_are_written_and_read_exactly_as_chrono_writes_and_reads_them() {
        for at in instants() {
            for until in [None, Some(at)] {
                let chrono = serde_json::to_string(&Chrono { at, until }).unwrap();
                let fast = serde_json::to_string(&Fast { at, until }).unwrap();
                assert_eq!(fast, chrono, "{at:?}");
                let read: Fast = serde_json::from_str(&chrono).unwrap();
                assert_eq!(read, Fast { at, until }, "{chrono}");
                let value: Fast =
                    Fast::deserialize(&serde_json::from_str::<serde_json::Value>(&chrono).unwrap()).unwrap();
                assert_eq!(value, read);
            }
        }
    }

    #[test]
    fn other_forms_chrono_accepts_are_accepted_and_the_rest_refused_alike() {
        let texts = [
            "2026-11-22T08:00:00.5Z",
            "2026-11-22T08:00:00.12345678Z",
            "2026-11-22T09:00:00+01:00",
            "2026-11-22t08:00:00z",
            "2026-11-22 08:00:00Z",
            "2026-11-22T08:00:00-00:00",
            "2016-12-31T23:59:60Z",
            "2026-02-29T08:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T08:60:00Z",
            "2026-13-01T08:00:00Z",
            "2026-11-22T08:00:00.Z",
            "2026-11-22T08:00:00.1234567890Z",
            "2026-11-22T08:00:00",
            "+2026-11-22T08:00:00Z",
            "２026-11-22T08:00:00Z",
            "",
        ];
        for text in texts {
            let json = format!(r#"{{"at":"{text}"}}"#);
            let chrono = serde_json::from_str::<Chrono>(&json).map(|c| c.at).ok();
            let fast = serde_json::from_str::<Fast>(&json).map(|f| f.at).ok();
            assert_eq!(fast, chrono, "{text}");
        }
        assert!(serde_json::from_str::<Fast>(r#"{"at":"2026-11-22T08:00:00Z","until":null}"#).is_ok());
        assert!(serde_json::from_str::<Fast>(r#"{"at":"2026-11-22T08:00:00Z","until":7}"#).is_err());
        assert!(serde_json::from_str::<Fast>(r#"{"at":7}"#).is_err());
    }
}
