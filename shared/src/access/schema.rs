//! What the access-control requests accept, as OpenAPI schemas (the companions of
//! [`crate::domain::schema`]): permission names, role ids, reasons and descriptions, IP addresses
//! and CIDR ranges. Schema-only types: request fields keep their plain strings and point here with
//! `#[schema(value_type = ...)]` / `#[param(inline, value_type = ...)]`, and each schema says
//! exactly what the field's parser takes, so that a request that fits the document is accepted
//! and one that does not is refused (the contract check, docs/API.md).
//!
//! Also: [`reference`], [`nullable`] and [`collect`], for schemas written by hand (`Scope`, the
//! bulk changes, the role creation) that refer to other components.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, OneOfBuilder, Ref, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use super::catalogue::{CATALOGUE, Portal};
use super::defaults::portal_allows;
use crate::domain::RoleId;
use crate::domain::schema as domain;

use crate::domain::schema::{WS, string, with_max_length};

/// A `$ref` to `T`'s component; the schema using it lists `T` with [`collect`].
pub fn reference<T: ToSchema>() -> RefOr<Schema> {
    Ref::from_schema_name(T::name()).into()
}

/// `null` or `T` (what the derive writes for an `Option<T>` field).
pub fn nullable<T: ToSchema>() -> RefOr<Schema> {
    OneOfBuilder::new().item(ObjectBuilder::new().schema_type(Type::Null)).item(reference::<T>()).into()
}

/// Lists `T` and the components it refers to, for a hand-written `ToSchema::schemas`.
pub fn collect<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

/// A permission name of the catalogue (`catalogue::find`; GET /v1/permissions lists them).
pub struct PermissionName;

impl PermissionName {
    /// The names a role of `portal` may hold (`defaults::portal_allows`: client roles client
    /// permissions, staff roles staff ones, admin roles admin and staff ones), inline.
    pub fn of_portal(portal: Portal) -> RefOr<Schema> {
        let names = CATALOGUE.iter().filter(|p| portal_allows(portal, p.portal)).map(|p| p.name);
        string("A permission of the catalogue that a role of this portal may hold").enum_values(Some(names)).into()
    }
}

impl PartialSchema for PermissionName {
    fn schema() -> RefOr<Schema> {
        string("A permission of the catalogue (GET /v1/permissions), e.g. shifts:create")
            .enum_values(Some(CATALOGUE.iter().map(|p| p.name)))
            .into()
    }
}

crate::named_schema!(PermissionName);

/// `word` in any ASCII case: `guard` -> `[gG][uU][aA][rR][dD]`.
fn any_case(word: &str) -> String {
    word.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The default roles (their ids) of the portals `wanted` keeps.
fn default_roles_of(wanted: impl Fn(Portal) -> bool) -> Vec<String> {
    super::defaults::default_roles(Default::default())
        .into_iter()
        .filter(|r| wanted(r.portal))
        .map(|r| r.id.as_str().to_owned())
        .collect()
}

/// A role id as `RoleId::parse` takes it, trimmed: one of `slugs` (ASCII case ignored), or a
/// custom role's ULID ([`domain::Id`]).
fn role_ref(slugs: &[String], description: &str) -> RefOr<Schema> {
    let alternatives: Vec<String> = slugs.iter().map(|s| any_case(s)).collect();
    let default = string(&format!("A default role: {}", slugs.join(", ")))
        .pattern(Some(format!("^[{WS}]*(?:{})[{WS}]*$", alternatives.join("|"))));
    AnyOfBuilder::new().description(Some(description)).item(default).item(domain::Id::schema()).into()
}

/// A role's id: a default role's (`guard`, ASCII case ignored) or a custom role's ULID.
pub struct RoleRef;

impl PartialSchema for RoleRef {
    fn schema() -> RefOr<Schema> {
        let all: Vec<String> = RoleId::DEFAULTS.iter().map(|s| (*s).to_owned()).collect();
        role_ref(&all, "A default role's id (e.g. guard) or a custom role's")
    }
}

crate::named_schema!(RoleRef);

/// A client portal role's id: of the default roles, only `client` (the handlers answer 422 for
/// another portal's role); or a custom role's ULID.
pub struct ClientRoleRef;

impl PartialSchema for ClientRoleRef {
    fn schema() -> RefOr<Schema> {
        role_ref(&default_roles_of(|p| p == Portal::Client), "A client portal role: `client` or a custom role's id")
    }
}

crate::named_schema!(ClientRoleRef);

/// An admin or staff role's id (what an integration user may hold): a default role other than
/// `client`, or a custom role's ULID.
pub struct StaffRoleRef;

impl PartialSchema for StaffRoleRef {
    fn schema() -> RefOr<Schema> {
        role_ref(
            &default_roles_of(|p| p != Portal::Client),
            "An admin or staff role: a default role's id or a custom role's",
        )
    }
}

crate::named_schema!(StaffRoleRef);

/// Why an assignment is made (`BoundedText<1, 500>`).
pub struct Reason;

impl PartialSchema for Reason {
    fn schema() -> RefOr<Schema> {
        with_max_length(domain::Name::schema(), 500, "Trimmed, 1 to 500 characters, no control characters")
    }
}

crate::named_schema!(Reason);

/// A role's description (`BoundedText<0, 500>`).
pub struct RoleDescription;

impl PartialSchema for RoleDescription {
    fn schema() -> RefOr<Schema> {
        with_max_length(domain::ShortText::schema(), 500, "Trimmed, 0 to 500 characters, no control characters")
    }
}

crate::named_schema!(RoleDescription);

/// One to four hex digits: a group of an IPv6 address.
const HEX: &str = "[0-9A-Fa-f]{1,4}";
/// An IPv4 octet as `std::net` reads it: 0 to 255, no leading zeros.
const STD_OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
/// An IPv4 octet as `ipnet` reads it (the older std parser): 0 to 255 in one to three digits,
/// leading zeros allowed.
const IPNET_OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|[01]?[0-9]?[0-9])";

fn ipv4(octet: &str) -> String {
    format!(r"{octet}(?:\.{octet}){{3}}")
}

/// An IPv6 address as the std-style parsers read it: eight groups (the last two may be written
/// as IPv4); or fewer around one `::` that stands for at least `gap` zero groups (std: 1; ipnet:
/// 0), the groups after it possibly ending in an IPv4 address (two groups), none before it.
fn ipv6(v4: &str, gap: usize) -> String {
    let mut forms = vec![format!("(?:{HEX}:){{7}}{HEX}"), format!("(?:{HEX}:){{6}}{v4}")];
    for before in 0..8 {
        let room = 8 - gap - before;
        let head = if before == 0 { String::new() } else { format!("{HEX}(?::{HEX}){{{}}}", before - 1) };
        let tail = match room {
            0 => String::new(),
            1 => format!("(?:{HEX})?"),
            n => format!("(?:{HEX}(?::{HEX}){{0,{}}}|(?:{HEX}:){{0,{}}}{v4})?", n - 1, n - 2),
        };
        forms.push(format!("{head}::{tail}"));
    }
    format!("(?:{})", forms.join("|"))
}

/// An IP address as `std::net::IpAddr` parses it (no whitespace, no zone, no leading zeros in
/// IPv4 octets).
pub struct IpAddress;

impl PartialSchema for IpAddress {
    fn schema() -> RefOr<Schema> {
        let v4 = ipv4(STD_OCTET);
        string("An IPv4 or IPv6 address, e.g. 203.0.113.7").pattern(Some(format!("^(?:{v4}|{})$", ipv6(&v4, 1)))).into()
    }
}

crate::named_schema!(IpAddress);

/// A CIDR range as the roles' `parse_cidrs` reads it: trimmed, then `ipnet::IpNet`'s parser (an
/// address, `/` and a prefix length: 0 to 32 for IPv4, 0 to 128 for IPv6).
pub struct Cidr;

fn cidr_pattern() -> String {
    let v4 = ipv4(IPNET_OCTET);
    let v6 = ipv6(&v4, 0);
    format!("^[{WS}]*(?:{v4}/(?:3[0-2]|[0-2]?[0-9])|{v6}/(?:12[0-8]|1[01][0-9]|0[0-9]{{2}}|[0-9]{{1,2}}))[{WS}]*$")
}

impl PartialSchema for Cidr {
    fn schema() -> RefOr<Schema> {
        string("A CIDR range, e.g. 203.0.113.0/24 or 2001:db8::/32").pattern(Some(cidr_pattern())).into()
    }
}

crate::named_schema!(Cidr);

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(schema: RefOr<Schema>) -> String {
        match schema {
            RefOr::T(Schema::Object(object)) => object.pattern.unwrap_or_default(),
            _ => String::new(),
        }
    }

    fn matches(pattern: &str, text: &str) -> bool {
        regex_lite::Regex::new(pattern).is_ok_and(|r| r.is_match(text))
    }

    #[test]
    fn the_cidr_pattern_accepts_what_ipnet_accepts() {
        let p = pattern(Cidr::schema());
        assert!(regex_lite::Regex::new(&p).is_ok(), "{p}");
        for text in [
            "203.0.113.0/24",
            "10.0.0.1/32",
            "0.0.0.0/0",
            " 192.168.001.010/08 ",
            "2001:db8::/32",
            "::/0",
            "::1/128",
            "1:2:3:4:5:6:7:8/64",
            "1:2:3:4:5:6:7::8/64",
            "::1:2:3:4:5:6:7:8/64",
            "1:2:3:4:5:6:7::/1",
            "::ffff:1.2.3.4/96",
            "1:2:3:4:5:6:1.2.3.4/128",
            "1:2:3:4:5::1.2.3.4/128",
            "fe80::/010",
            "",
            "1.2.3.4",
            "1.2.3.4/33",
            "1.2.3.4/032",
            "256.0.0.0/8",
            "1.2.3/8",
            "1.2.3.4/",
            "2001:db8::/129",
            "1::2::3/8",
            "1:2:3:4:5:6:7:8::/8",
            "1.2.3.4::/8",
            "12345::/8",
            "1:2:3:4:5:1.2.3.4/8",
            "1:2:3:4:5:6::1.2.3.4/8",
            "a/8",
            "1.2.3.4/8\u{0}",
            "0001.2.3.4/8",
        ] {
            assert_eq!(matches(&p, text), text.trim().parse::<ipnet::IpNet>().is_ok(), "{text:?}");
        }
    }

    #[test]
    fn the_ip_pattern_accepts_what_std_accepts() {
        let p = pattern(IpAddress::schema());
        for text in [
            "203.0.113.7",
            "0.0.0.0",
            "255.255.255.255",
            "::",
            "::1",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5::1.2.3.4",
            "FE80::AbCd",
            "",
            " 1.2.3.4",
            "01.2.3.4",
            "256.1.1.1",
            "1.2.3",
            "1:2:3:4:5:6:7::8",
            "::1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6::1.2.3.4",
            "1::2::3",
            "fe80::1%eth0",
            "1.2.3.4/8",
        ] {
            assert_eq!(matches(&p, text), text.parse::<std::net::IpAddr>().is_ok(), "{text:?}");
        }
    }

    fn fits_any_of(schema: RefOr<Schema>, text: &str) -> bool {
        match schema {
            RefOr::T(Schema::AnyOf(any)) => any.items.into_iter().any(|item| matches(&pattern(item), text)),
            _ => false,
        }
    }

    #[test]
    fn role_refs_are_default_slugs_or_ulids() {
        for text in
            ["guard", " Administrator ", "TERMINATED", "client", "01JDQ5X0000000000000000000", "guards", "", "admin"]
        {
            assert_eq!(fits_any_of(RoleRef::schema(), text), RoleId::parse(text).is_ok(), "{text:?}");
        }
        assert!(fits_any_of(ClientRoleRef::schema(), " Client") && !fits_any_of(ClientRoleRef::schema(), "guard"));
        assert!(fits_any_of(StaffRoleRef::schema(), "guard") && !fits_any_of(StaffRoleRef::schema(), "client"));
        assert!(fits_any_of(StaffRoleRef::schema(), "01JDQ5X0000000000000000000"));
    }

    #[test]
    fn permission_names_are_the_catalogue_and_each_portal_holds_its_own() {
        let values = |schema: RefOr<Schema>| match schema {
            RefOr::T(Schema::Object(object)) => object.enum_values.unwrap_or_default().len(),
            _ => 0,
        };
        assert_eq!(values(PermissionName::schema()), CATALOGUE.len());
        let portals = [Portal::Admin, Portal::Staff, Portal::Client].map(|p| values(PermissionName::of_portal(p)));
        assert!(portals.iter().all(|n| *n > 0) && portals[0] > portals[1], "{portals:?}");
    }
}
