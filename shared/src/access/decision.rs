//! The decision function: pure, no store and no HTTP. Given who asks (their user record, every
//! role assignment and the roles those name, the address they call from), a permission and facts
//! about the target, it allows or denies and says why. [`super::authorize`] gathers the facts
//! from the base table and calls it; the explain endpoint calls it for any user; the tests call
//! it directly to predict what the HTTP layer must answer.
//!
//! The rules, in the order they apply (the first that decides wins):
//! 1. a user who is not active, or holds an in-effect Terminated assignment, is denied
//!    everything (like a Cedar `forbid`, it overrides every grant, superuser included);
//! 2. an integration user counts only the assignments whose role grants API access and allows
//!    the caller's address; with none, it is denied with `api-access-blocked`;
//! 3. a superuser is allowed everything;
//! 4. every user may read themselves (`self:read`);
//! 5. otherwise each assignment is one linked permit: its role must hold the permission, it must
//!    be in effect now (`valid_from <= now < valid_until`), its scope level must be one the
//!    permission takes effect at (report templates: organisation or region only) and its scope
//!    must cover the target. Assignments add up: one is enough. Deny by default.

use crate::domain::utc;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::catalogue::{self, PermissionInfo};
use crate::domain::{AssignmentId, RegionId, RoleId, SiteId, UserId};
use crate::records::role::{ApiAccess, Assignment, Role, Scope, Validity};
use crate::records::user::{User, UserKind, UserStatus};

/// Where a site sits: enough to tell which scopes cover it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SiteFacts {
    pub id: SiteId,
    pub region: RegionId,
    /// The master site of a sub-site.
    pub parent: Option<SiteId>,
}

/// What a permission is exercised on, with the facts the decision needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The organisation as a whole: only organisation-scoped assignments cover it.
    Org,
    Region(RegionId),
    Site(SiteFacts),
    /// A user: covered by a scope that covers one of the sites they are assigned to.
    User {
        id: UserId,
        sites: Vec<SiteFacts>,
    },
}

impl Scope {
    /// Whether an assignment over this scope covers the target.
    pub fn covers(&self, target: &Target) -> bool {
        match (self, target) {
            (Scope::Org, _) => true,
            (_, Target::Org) => false,
            (Scope::Region(r), Target::Region(t)) => r == t,
            (Scope::Site(_), Target::Region(_)) => false,
            (scope, Target::Site(site)) => scope.covers_site(site),
            (scope, Target::User { sites, .. }) => sites.iter().any(|s| scope.covers_site(s)),
        }
    }

    pub fn covers_site(&self, site: &SiteFacts) -> bool {
        match self {
            Scope::Org => true,
            Scope::Region(r) => site.region == *r,
            Scope::Site(s) => site.id == *s || site.parent == Some(*s),
        }
    }
}

impl Assignment {
    /// Whether the assignment covers the target: its scope does, and the target is not one of
    /// the sub-sites it hides (a user target: through a site it does not hide).
    pub fn covers(&self, target: &Target) -> bool {
        let shown = |site: &SiteFacts| self.scope.covers_site(site) && !self.hidden_sites.contains(&site.id);
        match target {
            _ if self.hidden_sites.is_empty() => self.scope.covers(target),
            Target::Site(site) => shown(site),
            Target::User { sites, .. } => sites.iter().any(shown),
            other => self.scope.covers(other),
        }
    }
}

/// Who asks.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub user: &'a User,
    pub assignments: &'a [Assignment],
    /// The roles the assignments name (a missing one grants nothing).
    pub roles: &'a [Role],
    pub ip: Option<IpAddr>,
}

impl Subject<'_> {
    fn role(&self, id: &RoleId) -> Option<&Role> {
        self.roles.iter().find(|r| &r.id == id)
    }
}

/// Why a request is denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DenialReason {
    /// The user is inactive or terminated, or holds the Terminated role.
    Terminated,
    /// An integration user whose roles do not grant API access from this address.
    ApiAccessBlocked,
    /// No assignment's role holds the permission.
    NoAssignment,
    /// Roles hold the permission, but none of their assignments covers the target.
    OutOfScope,
    /// The only assignments that would grant it have expired.
    Expired,
    /// The only assignments that would grant it have not started yet.
    NotYetValid,
    /// The permission takes effect only from organisation or region level, and it is held only
    /// at site level.
    RegionLevelRule,
    /// Not a permission of the catalogue.
    UnknownPermission,
}

/// How one assignment bore on the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Bearing {
    /// Shown to callers who may not see the role's permissions (all but superusers): how an
    /// assignment bore on a permission tells whether its role holds it.
    Hidden,
    Grants,
    RoleLacksPermission,
    RoleMissing,
    ApiAccessBlocked,
    NotYetValid,
    Expired,
    RegionLevelRule,
    OutOfScope,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Considered {
    #[schema(value_type = String)]
    pub assignment_id: AssignmentId,
    #[schema(value_type = String)]
    pub role_id: RoleId,
    pub role_name: Option<String>,
    pub scope: Scope,
    #[serde(default, with = "utc::option")]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(default, with = "utc::option")]
    pub valid_until: Option<DateTime<Utc>>,
    pub bearing: Bearing,
}

/// On what ground a request is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    Superuser,
    SelfService,
    Assignments,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Decision {
    pub allowed: bool,
    /// Set when allowed.
    pub basis: Option<Basis>,
    /// Set when denied.
    pub reason: Option<DenialReason>,
    /// In words.
    pub detail: String,
    /// Every assignment of the user and how it bore on this decision; those that allow have
    /// bearing `grants`.
    pub assignments: Vec<Considered>,
}

impl Decision {
    fn allow(basis: Basis, detail: impl Into<String>, assignments: Vec<Considered>) -> Self {
        Self { allowed: true, basis: Some(basis), reason: None, detail: detail.into(), assignments }
    }
    fn deny(reason: DenialReason, detail: impl Into<String>, assignments: Vec<Considered>) -> Self {
        Self { allowed: false, basis: None, reason: Some(reason), detail: detail.into(), assignments }
    }
}

/// Whether the user is shut out of everything right now (inactive, terminated, or holding an
/// in-effect Terminated assignment).
pub fn is_terminated(user: &User, assignments: &[Assignment], now: DateTime<Utc>) -> bool {
    user.status != UserStatus::Active
        || assignments.iter().any(|a| a.role_id.as_str() == "terminated" && a.validity(now) == Validity::InEffect)
}

/// How an assignment bears on a permission, before looking at the target.
fn bearing(subject: &Subject<'_>, a: &Assignment, permission: &PermissionInfo, now: DateTime<Utc>) -> Bearing {
    let Some(role) = subject.role(&a.role_id) else { return Bearing::RoleMissing };
    if !role.grants(permission.name) {
        return Bearing::RoleLacksPermission;
    }
    if subject.user.kind == UserKind::Integration
        && (role.api_access != ApiAccess::Grant || !role.allows_ip(subject.ip))
    {
        return Bearing::ApiAccessBlocked;
    }
    match a.validity(now) {
        Validity::NotYetValid => return Bearing::NotYetValid,
        Validity::Expired => return Bearing::Expired,
        Validity::InEffect => {}
    }
    if !permission.scopes.contains(&a.scope.level()) {
        return Bearing::RegionLevelRule;
    }
    Bearing::Grants
}

/// An integration user's API gate: `Some(detail)` when it is blocked.
fn api_blocked(subject: &Subject<'_>, now: DateTime<Utc>) -> Option<&'static str> {
    if subject.user.kind != UserKind::Integration {
        return None;
    }
    let granting: Vec<&Role> = subject
        .assignments
        .iter()
        .filter(|a| a.validity(now) == Validity::InEffect)
        .filter_map(|a| subject.role(&a.role_id))
        .filter(|r| r.api_access == ApiAccess::Grant)
        .collect();
    if granting.is_empty() {
        Some("none of this integration user's roles grants API access")
    } else if !granting.iter().any(|r| r.allows_ip(subject.ip)) {
        Some("this address is outside the ranges the integration user's roles allow")
    } else {
        None
    }
}

/// Decides whether `subject` may exercise `permission` on `target` at `now`.
pub fn decide(subject: &Subject<'_>, permission: &str, target: &Target, now: DateTime<Utc>) -> Decision {
    let Some(info) = catalogue::find(permission) else {
        return Decision::deny(DenialReason::UnknownPermission, format!("{permission} is not a permission"), vec![]);
    };
    if is_terminated(subject.user, subject.assignments, now) {
        return Decision::deny(DenialReason::Terminated, "the user is terminated or inactive", vec![]);
    }
    if let Some(why) = api_blocked(subject, now) {
        return Decision::deny(DenialReason::ApiAccessBlocked, why, vec![]);
    }
    let mut considered: Vec<Considered> = subject
        .assignments
        .iter()
        .map(|a| {
            let mut bearing = bearing(subject, a, info, now);
            if bearing == Bearing::Grants && !a.covers(target) {
                bearing = Bearing::OutOfScope;
            }
            Considered {
                assignment_id: a.id,
                role_id: a.role_id.clone(),
                role_name: subject.role(&a.role_id).map(|r| r.name.clone()),
                scope: a.scope.clone(),
                valid_from: a.valid_from,
                valid_until: a.valid_until,
                bearing,
            }
        })
        .collect();
    if subject.user.is_superuser && subject.user.kind != UserKind::Integration {
        return Decision::allow(Basis::Superuser, "superusers may do everything in their organisation", considered);
    }
    let about_self = match target {
        Target::Org => true,
        Target::User { id, .. } => *id == subject.user.id,
        _ => false,
    };
    if info.name == "self:read" && about_self {
        return Decision::allow(Basis::SelfService, "every user may read themselves", considered);
    }
    if considered.iter().any(|c| c.bearing == Bearing::Grants) {
        considered.sort_by_key(|c| c.bearing != Bearing::Grants);
        let n = considered.iter().filter(|c| c.bearing == Bearing::Grants).count();
        return Decision::allow(Basis::Assignments, format!("granted by {n} assignment(s)"), considered);
    }
    let has = |b: Bearing| considered.iter().any(|c| c.bearing == b);
    let (reason, detail) = if has(Bearing::OutOfScope) {
        (DenialReason::OutOfScope, format!("no assignment holding {permission} covers the target"))
    } else if has(Bearing::RegionLevelRule) {
        (DenialReason::RegionLevelRule, format!("{permission} takes effect only from organisation or region level"))
    } else if has(Bearing::Expired) {
        (DenialReason::Expired, format!("the assignments holding {permission} have expired"))
    } else if has(Bearing::NotYetValid) {
        (DenialReason::NotYetValid, format!("the assignments holding {permission} have not started yet"))
    } else if has(Bearing::ApiAccessBlocked) {
        (DenialReason::ApiAccessBlocked, format!("the roles holding {permission} do not grant API access here"))
    } else {
        (DenialReason::NoAssignment, format!("no role assigned to the user holds {permission}"))
    };
    Decision::deny(reason, detail, considered)
}

/// Where a permission takes effect for a subject: the union of what the assignments that give
/// it cover. Listings use it to show only what is in scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub org: bool,
    pub grants: Vec<Assignment>,
}

impl Coverage {
    pub fn is_empty(&self) -> bool {
        !self.org && self.grants.is_empty()
    }
    pub fn covers(&self, target: &Target) -> bool {
        self.org || self.grants.iter().any(|a| a.covers(target))
    }
}

pub fn coverage(subject: &Subject<'_>, permission: &str, now: DateTime<Utc>) -> Coverage {
    let Some(info) = catalogue::find(permission) else { return Coverage::default() };
    if is_terminated(subject.user, subject.assignments, now) || api_blocked(subject, now).is_some() {
        return Coverage::default();
    }
    if subject.user.is_superuser && subject.user.kind != UserKind::Integration {
        return Coverage { org: true, grants: vec![] };
    }
    let grants: Vec<Assignment> =
        subject.assignments.iter().filter(|a| bearing(subject, a, info, now) == Bearing::Grants).cloned().collect();
    Coverage { org: grants.iter().any(|a| a.scope == Scope::Org), grants }
}
