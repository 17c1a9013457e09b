//! What the API's text fields accept, as OpenAPI schemas. Request types keep plain strings (so a
//! client hears about every bad field at once, from the parsers in this module's siblings);
//! these schemas say exactly what those parsers accept, so that a request that fits the
//! document is accepted and one that does not is refused (the contract check, docs/API.md).
//! Fields point at them with `#[schema(value_type = schema::Name)]`.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

/// What `str::trim` removes (Unicode White_Space).
pub const WS: &str = r"\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters (`char::is_control`: Unicode Cc).
pub const CC: &str = r"\u0000-\u001f\u007f-\u009f";

/// The pattern of [`super::BoundedText`]: whitespace around, then (if `required`) at least one
/// character, no control characters inside.
fn bounded_text_pattern(required: bool) -> String {
    let core = format!("[^{WS}{CC}](?:[^{CC}]*[^{WS}{CC}])?");
    let core = if required { core } else { format!("(?:{core})?") };
    format!("^[{WS}]*{core}[{WS}]*$")
}

/// Controls other than tab, line feed and carriage return: what a comment may not hold.
pub const CC_BUT_LINE_BREAKS: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";

/// The pattern of [`super::Comment`]: whitespace around (trimmed), line breaks and tabs allowed
/// inside, no other control characters; at most `max` characters after trimming, if given.
pub fn comment_pattern(max: Option<usize>) -> String {
    let edge = format!("[^{WS}{CC}]");
    let inside = format!("[^{CC_BUT_LINE_BREAKS}]");
    let repeat = max.map_or("*".to_owned(), |m| format!("{{0,{}}}", m.saturating_sub(2)));
    format!("^[{WS}]*(?:{edge}(?:{inside}{repeat}{edge})?)?[{WS}]*$")
}

/// A string schema with a description.
pub fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).description(Some(description))
}

/// `base` (one of this module's text schemas) with another maximum length: its pattern says
/// what is allowed, `maxLength` how much.
pub fn with_max_length(base: RefOr<Schema>, max: usize, description: &str) -> RefOr<Schema> {
    match base {
        RefOr::T(Schema::Object(mut object)) => {
            object.max_length = Some(max);
            object.description = Some(description.to_owned());
            RefOr::T(Schema::Object(object))
        }
        other => other,
    }
}

/// `impl ToSchema` naming a schema-only type after itself.
#[macro_export]
macro_rules! named_schema {
    ($name:ident) => {
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}

macro_rules! text_schema {
    ($(#[$doc:meta])* $name:ident, $min:literal, $max:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string(concat!("Trimmed, ", $min, " to ", $max, " characters, no control characters"))
                    .max_length(Some($max))
                    .pattern(Some(bounded_text_pattern($min > 0)))
                    .into()
            }
        }

        crate::named_schema!($name);
    };
}

text_schema!(
    /// Names of people, sites, regions, roles ([`super::Name`]).
    Name, 1, 100
);
text_schema!(
    /// A required line of up to 200 characters (an address's first line).
    Line, 1, 200
);
text_schema!(
    /// Optional short text ([`super::ShortText`]).
    ShortText, 0, 200
);
text_schema!(
    /// Optional text of up to 100 characters.
    Text100, 0, 100
);
text_schema!(
    /// Optional text of up to 20 characters (postal codes).
    Text20, 0, 20
);
text_schema!(
    /// A tag ([`super::Tag`]).
    Tag, 1, 50
);

/// A note on a clock-in or clock-out: a [`super::Comment`] (line breaks and tabs allowed, no
/// other control characters) of at most 1,000 characters as sent.
pub struct Note;

impl utoipa::PartialSchema for Note {
    fn schema() -> RefOr<Schema> {
        string("Up to 1,000 characters; line breaks allowed, other control characters not")
            .max_length(Some(1000))
            .pattern(Some(comment_pattern(None)))
            .into()
    }
}

crate::named_schema!(Note);

/// An entity id: a ULID (26 of Crockford's base 32 digits, either case, as the ulid crate
/// parses them; whitespace around is trimmed).
pub struct Id;

impl utoipa::PartialSchema for Id {
    fn schema() -> RefOr<Schema> {
        string("A ULID, as the API gives it")
            .pattern(Some(format!("^[{WS}]*[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{{26}}[{WS}]*$")))
            .into()
    }
}

crate::named_schema!(Id);

/// A listing's cursor: opaque, base64url, as the listing handed it out in `next_cursor`.
pub struct Cursor;

impl utoipa::PartialSchema for Cursor {
    fn schema() -> RefOr<Schema> {
        string("Opaque: the next_cursor of the page before")
            .min_length(Some(1))
            .max_length(Some(2048))
            .pattern(Some("^[A-Za-z0-9_-]+$"))
            .into()
    }
}

crate::named_schema!(Cursor);

/// An IANA time zone name: the list the server knows (tz database of chrono-tz).
pub struct TimeZoneName;

impl utoipa::PartialSchema for TimeZoneName {
    fn schema() -> RefOr<Schema> {
        let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
        string("An IANA time zone name, e.g. America/Toronto").enum_values(Some(names)).into()
    }
}

crate::named_schema!(TimeZoneName);

/// An ISO 3166-1 alpha-2 country code, as the server checks it: two letters.
pub struct Country;

impl utoipa::PartialSchema for Country {
    fn schema() -> RefOr<Schema> {
        string("ISO 3166-1 alpha-2 country code, e.g. CA")
            .pattern(Some(format!("^[{WS}]*[A-Za-z]{{2}}[{WS}]*$")))
            .into()
    }
}

crate::named_schema!(Country);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BoundedText, Name as NameText};

    fn matches(pattern: &str, text: &str) -> bool {
        regex_lite::Regex::new(pattern).is_ok_and(|r| r.is_match(text))
    }

    #[test]
    fn the_name_pattern_accepts_what_the_parser_accepts() {
        let pattern = bounded_text_pattern(true);
        for text in ["Toronto", " North \t", "Ann-Marie O'Neil", "x", "a b", "\u{2028}Quai\u{a0}"] {
            assert_eq!(matches(&pattern, text), NameText::parse(text).is_ok(), "{text:?}");
        }
        for text in ["", "   ", "a\u{7}b", "\u{0}", "line\nbreak", "\t"] {
            assert_eq!(matches(&pattern, text), NameText::parse(text).is_ok(), "{text:?}");
        }
        let optional = bounded_text_pattern(false);
        for text in ["", "  ", "ok", "a\u{1b}"] {
            assert_eq!(matches(&optional, text), BoundedText::<0, 200>::parse(text).is_ok(), "{text:?}");
        }
    }
}
