//! Roles: named permission sets of the organisation. Six default roles are seeded; only
//! superusers edit those, and only superusers see or change any role's permissions (the
//! permission matrix, TrackTik's rule). A role with assignments cannot be deleted.

pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod list_assignments;
pub mod update;

use chrono::{DateTime, Utc};
use guardpost_shared::access::catalogue::{self, Portal};
use guardpost_shared::access::defaults::portal_allows;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::utc;
use guardpost_shared::domain::{BoundedText, Name, Validator};
use guardpost_shared::records::role::{ApiAccess, Role};
use guardpost_shared::{AppError, AppResult};
use serde::Serialize;
use utoipa::ToSchema;

/// A role as shown: `permissions` only to superusers.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub portal: Portal,
    /// Present for superusers only (the permission matrix).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    pub api_access: ApiAccess,
    pub allowed_cidrs: Vec<String>,
    pub default: bool,
    pub version: u64,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "utc")]
    pub updated_at: DateTime<Utc>,
}

impl RoleView {
    pub fn shown(role: &Role, version: u64, principal: &Principal) -> Self {
        Self {
            id: role.id.to_string(),
            name: role.name.clone(),
            description: role.description.clone(),
            portal: role.portal,
            permissions: principal.user.is_superuser.then(|| role.permissions.clone()),
            api_access: role.api_access,
            allowed_cidrs: role.allowed_cidrs.clone(),
            default: role.default,
            version,
            created_at: role.created_at,
            updated_at: role.updated_at,
        }
    }
}

pub(crate) fn superuser_required(what: &str) -> AppError {
    AppError::Denied { kind: "superuser-required", detail: format!("only superusers may {what}") }
}

pub(crate) fn parse_name(v: &mut Validator, raw: &str) -> Option<String> {
    v.check("name", Name::parse(raw)).map(|n| n.into_inner())
}

pub(crate) fn parse_description(v: &mut Validator, raw: &str) -> Option<String> {
    v.check("description", BoundedText::<0, 500>::parse(raw)).map(|d| d.into_inner())
}

/// Catalogue names only, each allowed in the role's portal; sorted, without repeats.
pub(crate) fn parse_permissions(v: &mut Validator, portal: Portal, raw: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, name) in raw.iter().enumerate() {
        match catalogue::find(name.trim()) {
            None => {
                v.fail(&format!("permissions[{i}]"), format!("{name} is not in the catalogue (GET /v1/permissions)"))
            }
            Some(info) if !portal_allows(portal, info.portal) => v.fail(
                &format!("permissions[{i}]"),
                format!("{} belongs to the {:?} portal; a {:?} role cannot hold it", info.name, info.portal, portal)
                    .to_lowercase(),
            ),
            Some(info) => out.push(info.name.to_owned()),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// CIDR ranges (`203.0.113.0/24`, `2001:db8::/32`), normalised; at most 50.
pub(crate) fn parse_cidrs(v: &mut Validator, raw: &[String]) -> Vec<String> {
    if raw.len() > 50 {
        v.fail("allowed_cidrs", "at most 50 ranges");
    }
    let mut out = Vec::new();
    for (i, c) in raw.iter().enumerate() {
        match c.trim().parse::<ipnet::IpNet>() {
            Ok(net) => out.push(net.trunc().to_string()),
            Err(_) => v.fail(&format!("allowed_cidrs[{i}]"), "must be a CIDR range such as 203.0.113.0/24"),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// What a non-superuser may not do to a role: edit a default role, set its permissions, or set
/// its API access (`api_access`, `allowed_cidrs`: who may use the API, and from where, is as
/// much a right as a permission, on one's own role too).
pub(crate) fn check_may_edit(
    principal: &Principal,
    role: &Role,
    touches_permissions: bool,
    touches_api_access: bool,
) -> AppResult<()> {
    if principal.user.is_superuser && principal.user.kind != guardpost_shared::records::user::UserKind::Integration {
        return Ok(());
    }
    if role.default {
        return Err(superuser_required("edit default roles"));
    }
    if touches_permissions {
        return Err(superuser_required("set a role's permissions"));
    }
    if touches_api_access {
        return Err(superuser_required("set a role's API access"));
    }
    Ok(())
}
