//! An item's own attributes: a JSON object, held as the value it was written from or as the
//! JSON text SQLite returned.
//!
//! Reads keep the text and decode it only when a record asks ([`Data::parse`]), straight into
//! that record: building a `serde_json::Value` tree first and deserialising the record from it
//! was a fifth to a quarter of the instructions of a cheap read (docs/BENCHMARKS.md,
//! "Instructions per request"), and items a request reads but does not parse cost nothing.
//!
//! The text is shared ([`Text`]): SQLite's item cache hands out copies of an item without
//! copying it, and [`Data::parse_shared`] keeps the record decoded from it beside it, so the
//! records every request reads (its session, user, role assignments and roles) are decoded once
//! per change, not once per request.

use std::any::Any;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Clone, Debug)]
pub enum Data {
    /// Built by the code that writes the item, or read from DynamoDB.
    Value(Value),
    /// As read from SQLite, not yet decoded (nor checked to be JSON).
    Text(Arc<Text>),
}

/// JSON text as SQLite returned it, and the record last decoded from it by
/// [`Data::parse_shared`].
pub struct Text {
    json: Box<str>,
    decoded: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Text").field(&self.json).finish()
    }
}

impl Data {
    /// Attributes held as the JSON text they were stored as.
    pub fn json_text(json: impl Into<Box<str>>) -> Self {
        Self::Text(Arc::new(Text { json: json.into(), decoded: OnceLock::new() }))
    }

    /// How many bytes of JSON text are held (none for a value, built in memory).
    pub fn stored_len(&self) -> usize {
        match self {
            Self::Value(_) => 0,
            Self::Text(text) => text.json.len(),
        }
    }

    /// Decodes the attributes into a record.
    pub fn parse<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        match self {
            Self::Value(value) => T::deserialize(value),
            Self::Text(text) => serde_json::from_str(&text.json),
        }
    }

    /// Decodes the attributes into a record, or copies the one already decoded from the same
    /// text (an item the store's cache answered again). For the records read on every request:
    /// a copy costs a fraction of decoding, and the first decode pays one copy more.
    pub fn parse_shared<T: DeserializeOwned + Clone + Send + Sync + 'static>(&self) -> serde_json::Result<T> {
        let Self::Text(text) = self else { return self.parse() };
        if let Some(record) = text.decoded.get().and_then(|decoded| decoded.downcast_ref::<T>()) {
            return Ok(record.clone());
        }
        let record: T = serde_json::from_str(&text.json)?;
        // Another thread may have decoded it meanwhile: either copy is the same record.
        let _ = text.decoded.set(Box::new(record.clone()));
        Ok(record)
    }

    /// The attributes as a JSON value (decoding the text, when that is what is held).
    pub fn value(&self) -> serde_json::Result<Cow<'_, Value>> {
        match self {
            Self::Value(value) => Ok(Cow::Borrowed(value)),
            Self::Text(text) => serde_json::from_str(&text.json).map(Cow::Owned),
        }
    }

    /// The attributes as JSON text (encoding the value, when that is what is held).
    pub fn text(&self) -> serde_json::Result<Cow<'_, str>> {
        match self {
            Self::Value(value) => serde_json::to_string(value).map(Cow::Owned),
            Self::Text(text) => Ok(Cow::Borrowed(&text.json)),
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

    #[derive(serde::Deserialize, Clone, Debug, PartialEq)]
    struct Record {
        name: String,
        count: u32,
    }

    #[test]
    fn text_and_value_decode_to_the_same_record_and_compare_equal() {
        let value = Data::from(json!({"name": "north", "count": 3}));
        let text = Data::json_text(r#"{"count":3,"name":"north"}"#);
        let expected = Record { name: "north".into(), count: 3 };
        assert_eq!(value.parse::<Record>().ok(), Some(expected));
        assert_eq!(text.parse::<Record>().ok(), value.parse::<Record>().ok());
        assert_eq!(text, value);
        assert_ne!(Data::json_text(r#"{"count":4,"name":"north"}"#), value);
        assert_eq!(text.value().ok().map(Cow::into_owned), Some(json!({"name": "north", "count": 3})));
        assert_eq!(value.text().ok().as_deref(), Some(r#"{"count":3,"name":"north"}"#));
    }

    #[test]
    fn text_that_is_not_json_fails_to_decode_and_equals_nothing() {
        let broken = Data::json_text("{not json");
        assert!(broken.parse::<Record>().is_err());
        assert!(broken.value().is_err());
        assert_ne!(broken.clone(), broken);
        assert!(broken.parse_shared::<Record>().is_err());
    }

    #[derive(serde::Deserialize, Clone, Debug, PartialEq)]
    struct Other {
        name: String,
    }

    #[test]
    fn a_shared_decode_is_kept_with_the_text_and_copied_to_every_copy_of_the_item() {
        let text = Data::json_text(r#"{"count":3,"name":"north"}"#);
        let copy = text.clone();
        let first: Record = text.parse_shared().unwrap();
        let Data::Text(shared) = &copy else { panic!("text stays text") };
        assert!(shared.decoded.get().is_some_and(|d| d.downcast_ref::<Record>() == Some(&first)));
        assert_eq!(copy.parse_shared::<Record>().unwrap(), first);
        // Another record type decodes the text afresh; the kept one is untouched.
        assert_eq!(copy.parse_shared::<Other>().unwrap(), Other { name: "north".into() });
        assert_eq!(copy.parse_shared::<Record>().unwrap(), first);
        // A value decodes as `parse` does.
        let value = Data::from(json!({"name": "south", "count": 1}));
        assert_eq!(value.parse_shared::<Record>().unwrap(), Record { name: "south".into(), count: 1 });
    }
}
