//! Whole numbers as JSON Schema counts them: `1.0` is the integer 1 (an `integer` schema
//! admits it), though serde would refuse it for a `u64`.

use serde::{Deserialize, Deserializer};

/// `#[serde(deserialize_with = "whole_number")]` on a `u64` field.
pub fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    if let Some(u) = n.as_u64() {
        return Ok(u);
    }
    match n.as_f64() {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(f) if f.fract() == 0.0 && (0.0..=9.007_199_254_740_992e15).contains(&f) => Ok(f as u64),
        _ => Err(serde::de::Error::custom("must be a whole number from 0")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Size {
        #[serde(deserialize_with = "whole_number")]
        size: u64,
    }

    #[test]
    fn integral_floats_count_and_fractions_do_not() {
        let size = |json: &str| serde_json::from_str::<Size>(json).map(|s| s.size).ok();
        assert_eq!(size(r#"{"size": 1}"#), Some(1));
        assert_eq!(size(r#"{"size": 1.0}"#), Some(1));
        assert_eq!(size(r#"{"size": 1.5}"#), None);
        assert_eq!(size(r#"{"size": -1}"#), None);
    }
}
