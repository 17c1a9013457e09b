//! What the user and employee requests accept, as OpenAPI schemas: the companions of
//! `guardpost_shared::domain::schema` for the parsers it has no schema for (logins, employee
//! numbers, comments, phone numbers, payroll ids, days bounded by today) and for the account
//! topic of the notification preferences. Schema-only types: request fields keep their plain
//! strings and point here with `#[schema(value_type = fields::...)]`, and each schema says what the
//! field's parser takes, so that a request that fits the document is accepted and one that does
//! not is refused (the contract check, docs/API.md). Where a parser decides more than a schema
//! can say (a phone number's numbering plan), the schema says as much as it can, and its type's
//! comment says what is left out.

use chrono::Datelike;
use guardpost_shared::domain::schema;
use utoipa::PartialSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};

use guardpost_shared::domain::schema::{WS, comment_pattern, string, with_max_length};
/// RFC 5322 `atext` in ASCII: what a dot-atom (an email's local part, and the inside of the
/// labels `email_address` accepts in a domain) is made of.
const ATEXT: &str = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-";

fn pattern(text: String) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(text))
}

/// An email address as `Email::parse` takes it: trimmed; at most 254 characters; a dot-atom
/// local part of at most 64 characters (no quoted form); `@`; a domain of two or more labels of
/// at most 63 characters, each starting and ending with a letter or digit. Three patterns, all
/// of which must match: the syntax, the whole length, the local part's length.
pub struct EmailAddress;

impl PartialSchema for EmailAddress {
    fn schema() -> RefOr<Schema> {
        let label = format!("[A-Za-z0-9](?:[{ATEXT}]{{0,61}}[A-Za-z0-9])?");
        let syntax = format!(r"^[{WS}]*[{ATEXT}]+(?:\.[{ATEXT}]+)*@{label}(?:\.{label})+[{WS}]*$");
        AllOfBuilder::new()
            .description(Some("An email address, e.g. ada@example.com (stored in lower case)"))
            .item(pattern(syntax))
            .item(pattern(format!("^[{WS}]*[!-~]{{1,254}}[{WS}]*$")))
            .item(pattern(format!("^[{WS}]*[^@]{{1,64}}@")))
            .into()
    }
}

guardpost_shared::named_schema!(EmailAddress);

/// A login name as `Username::parse` takes it: trimmed, 3 to 64 of `a-z 0-9 . _ -` in either
/// case (stored in lower case), starting with a letter or digit.
pub struct Username;

impl PartialSchema for Username {
    fn schema() -> RefOr<Schema> {
        string("3 to 64 of letters, digits, '.', '_' and '-', starting with a letter or digit (stored in lower case)")
            .pattern(Some(format!("^[{WS}]*[A-Za-z0-9][A-Za-z0-9._-]{{2,63}}[{WS}]*$")))
            .into()
    }
}

guardpost_shared::named_schema!(Username);

/// An employee number as `employees::create::employee_number` takes it: trimmed, 1 to 32 of
/// letters, digits, `.`, `_` and `-`.
pub struct EmployeeNumber;

impl PartialSchema for EmployeeNumber {
    fn schema() -> RefOr<Schema> {
        string("1 to 32 of letters, digits, '.', '_' and '-'")
            .pattern(Some(format!("^[{WS}]*[A-Za-z0-9._-]{{1,32}}[{WS}]*$")))
            .into()
    }
}

guardpost_shared::named_schema!(EmployeeNumber);

/// A comment as `Comment::parse` takes it: trimmed, at most 4000 characters, line breaks and
/// tabs allowed, no other control characters.
pub struct Comment;

impl PartialSchema for Comment {
    fn schema() -> RefOr<Schema> {
        string("Trimmed, at most 4000 characters; line breaks and tabs allowed, no other control characters")
            .pattern(Some(comment_pattern(Some(4000))))
            .into()
    }
}

guardpost_shared::named_schema!(Comment);

/// A phone number as `PhoneE164::parse` takes it, as near as a pattern comes: `+`, a country
/// code and the number, 7 to 15 digits in all (E.164), whitespace around trimmed. The server
/// also checks the number against its country's numbering plan (and accepts spaces, dashes and
/// brackets inside, which the pattern leaves out).
pub struct PhoneNumber;

impl PartialSchema for PhoneNumber {
    fn schema() -> RefOr<Schema> {
        string("International (E.164) form, e.g. +14165550123; it must be a number of its country's numbering plan")
            // The parser takes separators (`+1 (416) 555-0123`) and checks the numbering plan.
            .pattern(Some(format!(r"^[{WS}]*\+[0-9][0-9 ().-]{{5,30}}[{WS}]*$")))
            .into()
    }
}

guardpost_shared::named_schema!(PhoneNumber);

/// An HR payroll id (`BoundedText<1, 64>`).
pub struct PayrollId;

impl PartialSchema for PayrollId {
    fn schema() -> RefOr<Schema> {
        with_max_length(schema::Name::schema(), 64, "Trimmed, 1 to 64 characters, no control characters")
    }
}

guardpost_shared::named_schema!(PayrollId);

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Every calendar day (`YYYY-MM-DD`) of the years `first..=last`: February 29 in leap years only.
fn days_of(first: i32, last: i32) -> String {
    const MONTH_DAYS: &str = concat!(
        "(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])",
        "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)",
        "|02-(?:0[1-9]|1[0-9]|2[0-8])"
    );
    let years = |leap_only: bool| -> String {
        (first..=last).filter(|y| !leap_only || is_leap(*y)).map(|y| format!("{y:04}")).collect::<Vec<_>>().join("|")
    };
    let leap = years(true);
    if leap.is_empty() {
        format!("^(?:{})-(?:{MONTH_DAYS})$", years(false))
    } else {
        format!("^(?:(?:{})-(?:{MONTH_DAYS})|(?:{leap})-02-29)$", years(false))
    }
}

fn day(description: &str, first: i32, last: i32) -> RefOr<Schema> {
    string(description)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(days_of(first, last)))
        .into()
}

/// A birthday as the employee forms check it: a past day from 1900 on. The document is made
/// once, so it lists whole years: from 1900 to the last one before the year it was made in (a
/// birthday earlier this year is accepted too).
pub struct Birthday;

impl PartialSchema for Birthday {
    fn schema() -> RefOr<Schema> {
        let this_year = chrono::Utc::now().year();
        day("A past day from 1900 on, YYYY-MM-DD", 1900, this_year - 1)
    }
}

guardpost_shared::named_schema!(Birthday);

/// An employment or HR day (hire, start, last day, transfer) as the employee forms check it: from
/// 1950 to a year ahead. The document lists whole years, from 1950 to the one after it was made
/// in; the server refuses a day more than a year ahead (422).
pub struct WorkDay;

impl PartialSchema for WorkDay {
    fn schema() -> RefOr<Schema> {
        let this_year = chrono::Utc::now().year();
        day("A day from 1950 to a year ahead, YYYY-MM-DD", 1950, this_year + 1)
    }
}

guardpost_shared::named_schema!(WorkDay);

/// The account topic's channels as a change takes them: account emails (invitations, password
/// links) cannot be switched off, so `email` is `true`.
pub struct AccountChannels;

impl PartialSchema for AccountChannels {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("Account emails (invitations, password links) cannot be switched off: email is true"))
            .property("email", ObjectBuilder::new().schema_type(Type::Boolean).enum_values(Some([true])))
            .required("email")
            .property("sms", ObjectBuilder::new().schema_type(Type::Boolean))
            .required("sms")
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
            .into()
    }
}

guardpost_shared::named_schema!(AccountChannels);
