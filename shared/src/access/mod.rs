//! The one decision point: `authorize(principal, permission, resource)`, deny by default, read
//! from the store on every request. Handlers receive a [`Granted`] only after an allow, and the
//! use cases that change things take one, so code that skipped the check does not compile.
//!
//! Interim rule (until the access-control issue brings roles, scopes and Cedar): superusers and
//! holders of the Administrator role may do everything in their organisation; other users may
//! read themselves and the sites they are assigned to, and clock in and out there.

pub mod catalogue;

use serde::Serialize;

use crate::auth::Principal;
use crate::domain::{SiteId, UserId};
use crate::error::AppError;
use crate::records::keys;
use crate::store::Store;

/// A permission: `resource:action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Permission {
    /// Any authenticated user reading their own profile and sites.
    SelfRead,
    RegionsView,
    RegionsCreate,
    SitesView,
    SitesCreate,
    SitesEdit,
    SiteEmployeesView,
    SiteEmployeesAssign,
    EmployeesView,
    EmployeesCreate,
    ShiftsView,
    ShiftsCreate,
    /// Clock in and out and take breaks at a site, for oneself.
    TimeClock,
    TimeEntriesView,
    NotificationsView,
    RolesView,
}

impl Permission {
    /// Every permission the code checks (the catalogue test holds them to the catalogue).
    pub const ALL: &'static [Permission] = &[
        Self::SelfRead,
        Self::RegionsView,
        Self::RegionsCreate,
        Self::SitesView,
        Self::SitesCreate,
        Self::SitesEdit,
        Self::SiteEmployeesView,
        Self::SiteEmployeesAssign,
        Self::EmployeesView,
        Self::EmployeesCreate,
        Self::ShiftsView,
        Self::ShiftsCreate,
        Self::TimeClock,
        Self::TimeEntriesView,
        Self::NotificationsView,
        Self::RolesView,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Self::SelfRead => "self:read",
            Self::RegionsView => "regions:view",
            Self::RegionsCreate => "regions:create",
            Self::SitesView => "sites:view",
            Self::SitesCreate => "sites:create",
            Self::SitesEdit => "sites:edit",
            Self::SiteEmployeesView => "site-employees:view",
            Self::SiteEmployeesAssign => "site-employees:assign",
            Self::EmployeesView => "employees:view",
            Self::EmployeesCreate => "employees:create",
            Self::ShiftsView => "shifts:view",
            Self::ShiftsCreate => "shifts:create",
            Self::TimeClock => "time:clock",
            Self::TimeEntriesView => "time-entries:view",
            Self::NotificationsView => "notifications:view",
            Self::RolesView => "roles:view",
        }
    }
}

/// What the permission is exercised on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Organisation,
    Site(SiteId),
    User(UserId),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    pub reasons: Vec<String>,
}

impl Decision {
    fn allow(reason: impl Into<String>) -> Self {
        Self { allowed: true, reasons: vec![reason.into()] }
    }
    fn deny(reason: impl Into<String>) -> Self {
        Self { allowed: false, reasons: vec![reason.into()] }
    }
}

/// Proof that a decision allowed the caller to act; only [`authorize`] makes one.
#[derive(Debug)]
pub struct Granted {
    permission: Permission,
    resource: Resource,
}

impl Granted {
    pub fn permission(&self) -> Permission {
        self.permission
    }
    pub fn resource(&self) -> Resource {
        self.resource
    }
}

pub async fn decide(
    store: &dyn Store,
    principal: &Principal,
    permission: Permission,
    resource: Resource,
) -> Result<Decision, AppError> {
    let user = &principal.user;
    if user.is_superuser {
        return Ok(Decision::allow("superuser"));
    }
    if user.is_administrator() {
        return Ok(Decision::allow("role Administrator (organisation scope)"));
    }
    Ok(match (permission, resource) {
        (Permission::SelfRead, _) => Decision::allow("every user may read themselves"),
        // Self-service; the site assignment is checked in the transaction that clocks in.
        (Permission::TimeClock, Resource::Site(_)) if user.kind == crate::records::user::UserKind::Employee => {
            Decision::allow("employees clock themselves in and out at the sites they are assigned to")
        }
        (Permission::EmployeesView, Resource::User(id)) if id == user.id => {
            Decision::allow("every user may read themselves")
        }
        (Permission::SitesView, Resource::Site(site)) => {
            let assigned = store.get(&keys::site_assignment(&principal.org, &user.id, &site)).await?.is_some();
            if assigned { Decision::allow("assigned to the site") } else { Decision::deny("not assigned to the site") }
        }
        _ => Decision::deny(format!("no role grants {}", permission.name())),
    })
}

/// Deny by default: `Forbidden` unless the decision allows.
pub async fn authorize(
    store: &dyn Store,
    principal: &Principal,
    permission: Permission,
    resource: Resource,
) -> Result<Granted, AppError> {
    let decision = decide(store, principal, permission, resource).await?;
    if decision.allowed {
        Ok(Granted { permission, resource })
    } else {
        tracing::info!(permission = permission.name(), reasons = ?decision.reasons, "access denied");
        Err(AppError::Forbidden)
    }
}
