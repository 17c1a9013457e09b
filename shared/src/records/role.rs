//! Roles and role assignments. A role is a named set of catalogue permissions owned by the
//! organisation, in one portal, with its API access setting. An assignment binds a user to a
//! role over a scope (organisation, region or site), optionally between two instants.
//!
//! All of a user's assignments live in one item, the user's access item, in the organisation's
//! `ACCESS` partition: authentication reads it in the same batch as the session and the user, so
//! deciding costs no extra round trip for it, and an access review reads one partition.

use crate::domain::utc;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

use crate::access::catalogue::Portal;
use crate::access::schema;
use crate::domain::schema::Id;
use crate::domain::{AssignmentId, OrgSlug, RegionId, RoleId, SiteId, UserId};
use crate::error::AppError;
use crate::store::{Item, Store};

use super::{Versioned, keys};

pub const KIND: &str = "role";
pub const ROLE_NAME_KIND: &str = "role-name";
pub const ACCESS_KIND: &str = "user-access";

/// TrackTik's "IP Block Scenario": whether an integration user holding this role may use the API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiAccess {
    Grant,
    #[default]
    Block,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Role {
    #[schema(value_type = String, example = "guard")]
    pub id: RoleId,
    pub name: String,
    pub description: String,
    pub portal: Portal,
    /// Catalogue permission names, sorted.
    pub permissions: Vec<String>,
    pub api_access: ApiAccess,
    /// When set, integration users holding this role may call only from these CIDR ranges.
    #[serde(default)]
    pub allowed_cidrs: Vec<String>,
    /// One of the six roles every organisation starts with (only superusers edit them).
    pub default: bool,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "utc")]
    pub updated_at: DateTime<Utc>,
}

impl Role {
    pub fn grants(&self, permission: &str) -> bool {
        self.permissions.binary_search_by(|p| p.as_str().cmp(permission)).is_ok()
    }

    pub fn item(&self, org: &OrgSlug, version: u64) -> Result<Item, AppError> {
        let mut item = super::item(keys::role(org, &self.id), KIND, self)?;
        item.version = version;
        Ok(item)
    }

    /// Whether `ip` is inside the allowed ranges (no ranges: anywhere).
    pub fn allows_ip(&self, ip: Option<std::net::IpAddr>) -> bool {
        if self.allowed_cidrs.is_empty() {
            return true;
        }
        let Some(ip) = ip else { return false };
        self.allowed_cidrs.iter().filter_map(|c| c.parse::<ipnet::IpNet>().ok()).any(|net| net.contains(&ip))
    }
}

/// What an assignment covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Scope {
    /// The whole organisation (no id).
    Org,
    Region(RegionId),
    /// A site; a master site's scope also covers its sub-sites.
    Site(SiteId),
}

/// The document's `Scope`, by hand (the derive cannot say it): one shape per `type`. `org` has
/// no id (absent, or `null`, which serde reads as the unit variant's content); `region` and
/// `site` have one, a ULID. serde ignores other keys here (the enum does not deny unknown
/// fields), so the shapes do not forbid them either: the document says what is accepted.
impl utoipa::PartialSchema for Scope {
    fn schema() -> RefOr<Schema> {
        let tag = |name: &str| ObjectBuilder::new().schema_type(Type::String).enum_values(Some([name]));
        let org = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("The whole organisation (no id)"))
            .property("type", tag("org"))
            .required("type")
            .property("id", ObjectBuilder::new().schema_type(Type::Null));
        let with_id = |name: &str, description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(description))
                .property("type", tag(name))
                .required("type")
                .property("id", schema::reference::<Id>())
                .required("id")
        };
        OneOfBuilder::new()
            .description(Some(
                "What an assignment covers: `{\"type\": \"org\"}`, `{\"type\": \"region\", \"id\": ...}` or \
                 `{\"type\": \"site\", \"id\": ...}`",
            ))
            .item(org)
            .item(with_id("region", "A region"))
            .item(with_id("site", "A site; a master site's scope also covers its sub-sites"))
            .into()
    }
}

impl ToSchema for Scope {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Scope")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schema::collect::<Id>(schemas);
    }
}

impl Scope {
    pub fn level(&self) -> crate::access::catalogue::ScopeLevel {
        use crate::access::catalogue::ScopeLevel;
        match self {
            Self::Org => ScopeLevel::Org,
            Self::Region(_) => ScopeLevel::Region,
            Self::Site(_) => ScopeLevel::Site,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Org => f.write_str("organisation"),
            Self::Region(id) => write!(f, "region {id}"),
            Self::Site(id) => write!(f, "site {id}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Assignment {
    #[schema(value_type = String)]
    pub id: AssignmentId,
    #[schema(value_type = String)]
    pub role_id: RoleId,
    pub scope: Scope,
    #[serde(default, with = "utc::option")]
    pub valid_from: Option<DateTime<Utc>>,
    /// The assignment stops having effect at this instant, by itself.
    #[serde(default, with = "utc::option")]
    pub valid_until: Option<DateTime<Utc>>,
    pub reason: String,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub created_by: UserId,
    /// For a master site's scope: the sub-sites it does not cover (a client access set to "No"
    /// for them). A sub-site added later is covered until someone hides it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<String>)]
    pub hidden_sites: Vec<SiteId>,
}

/// Where an assignment stands at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    InEffect,
    NotYetValid,
    Expired,
}

impl Assignment {
    /// An assignment without bounds in time.
    pub fn new(
        id: AssignmentId,
        role_id: RoleId,
        scope: Scope,
        reason: impl Into<String>,
        at: DateTime<Utc>,
        by: UserId,
    ) -> Self {
        Self {
            id,
            role_id,
            scope,
            valid_from: None,
            valid_until: None,
            reason: reason.into(),
            created_at: at,
            created_by: by,
            hidden_sites: Vec::new(),
        }
    }

    pub fn validity(&self, now: DateTime<Utc>) -> Validity {
        if self.valid_from.is_some_and(|from| now < from) {
            Validity::NotYetValid
        } else if self.valid_until.is_some_and(|until| now >= until) {
            Validity::Expired
        } else {
            Validity::InEffect
        }
    }
}

/// Every assignment of one user (at most [`UserAccess::MAX_ASSIGNMENTS`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAccess {
    pub user_id: Option<UserId>,
    pub assignments: Vec<Assignment>,
    /// Sessions created before this instant are over: set when the user is given the
    /// Terminated role, in the same write.
    #[serde(default, with = "utc::option")]
    pub sessions_valid_after: Option<DateTime<Utc>>,
}

impl UserAccess {
    pub const MAX_ASSIGNMENTS: usize = 100;

    pub fn item(&self, org: &OrgSlug, user: &UserId, version: u64) -> Result<Item, AppError> {
        let record = UserAccess { user_id: Some(*user), ..self.clone() };
        let mut item = super::item(keys::user_access(org, user), ACCESS_KIND, &record)?;
        item.version = version;
        Ok(item)
    }
}

/// Reads a user's access item (an absent item is no assignment; version 0 means "create it").
pub async fn load_access(store: &dyn Store, org: &OrgSlug, user: &UserId) -> Result<Versioned<UserAccess>, AppError> {
    Ok(super::get(store, &keys::user_access(org, user))
        .await?
        .unwrap_or(Versioned { record: UserAccess::default(), version: 0 }))
}

/// Reads a role of the organisation, or "not found".
pub async fn load(store: &dyn Store, org: &OrgSlug, id: &RoleId) -> Result<Versioned<Role>, AppError> {
    super::get(store, &keys::role(org, id)).await?.ok_or(AppError::NotFound("role"))
}
