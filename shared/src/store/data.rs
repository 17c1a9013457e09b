//! An item's own attributes: a JSON object, held as the value it was written from or as the
//! JSON text SQLite returned.
//!
//! Reads keep the text and decode it only when a record asks ([`Data::parse`]), straight into
//! that record: building a `serde_json::Value` tree first and deserialising the record from it
//! was a fifth to a quarter of the instructions of a cheap read (docs/BENCHMARKS.md,
//! "Instructions per request"), and items a request reads but does not parse cost nothing.

use std::borrow::Cow;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Clone, Debug)]
pub enum Data {
    /// Built by the code that writes the item, or read from DynamoDB.
    Value(Value),
    /// As read from SQLite, not yet decoded (nor checked to be JSON); shared, so that the
    /// store's item cache hands out copies without copying the text.
    Text(Arc<str>),
}

impl Data {
    /// Decodes the attributes into a record.
    pub fn parse<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        match self {
            Self::Value(value) => T::deserialize(value),
            Self::Text(text) => serde_json::from_str(text),
        }
    }

    /// The attributes as a JSON value (decoding the text, when that is what is held).
    pub fn value(&self) -> serde_json::Result<Cow<'_, Value>> {
        match self {
            Self::Value(value) => Ok(Cow::Borrowed(value)),
            Self::Text(text) => serde_json::from_str(text).map(Cow::Owned),
        }
    }

    /// The attributes as JSON text (encoding the value, when that is what is held).
    pub fn text(&self) -> serde_json::Result<Cow<'_, str>> {
        match self {
            Self::Value(value) => serde_json::to_string(value).map(Cow::Owned),
            Self::Text(text) => Ok(Cow::Borrowed(text)),
        }
    }
}

impl From<Value> for Data {
    fn from(value: Value) -> Self {
        Self::Value(value)
    }
}

/// Equal when they hold the same JSON value, however each is held; text that is not JSON
/// equals nothing.
impl PartialEq for Data {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Value(a), Self::Value(b)) => a == b,
            _ => matches!((self.value(), other.value()), (Ok(a), Ok(b)) if a == b),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Record {
        name: String,
        count: u32,
    }

    #[test]
    fn text_and_value_decode_to_the_same_record_and_compare_equal() {
        let value = Data::from(json!({"name": "north", "count": 3}));
        let text = Data::Text(r#"{"count":3,"name":"north"}"#.into());
        let expected = Record { name: "north".into(), count: 3 };
        assert_eq!(value.parse::<Record>().ok(), Some(expected));
        assert_eq!(text.parse::<Record>().ok(), value.parse::<Record>().ok());
        assert_eq!(text, value);
        assert_ne!(Data::Text(r#"{"count":4,"name":"north"}"#.into()), value);
        assert_eq!(text.value().ok().map(Cow::into_owned), Some(json!({"name": "north", "count": 3})));
        assert_eq!(value.text().ok().as_deref(), Some(r#"{"count":3,"name":"north"}"#));
    }

    #[test]
    fn text_that_is_not_json_fails_to_decode_and_equals_nothing() {
        let broken = Data::Text("{not json".into());
        assert!(broken.parse::<Record>().is_err());
        assert!(broken.value().is_err());
        assert_ne!(broken.clone(), broken);
    }
}
