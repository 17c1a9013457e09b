//! The permission catalogue: every permission guardpost knows, with a stable `resource:action`
//! name, the portal it belongs to, what it allows, and the scope levels at which a role
//! assignment can give it. It lists the permissions of today's operations and of those the
//! product will have (the manager dashboard of TrackTik's onsite licence, site contacts, client
//! access, schedules, reports and templates, tours, the employee lifecycle, roles, audit, and the
//! client portal's screens at View and Maintain), so roles can be shaped before the screens
//! exist.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Portal {
    Admin,
    Staff,
    Client,
}

/// The level of a role assignment's scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeLevel {
    Org,
    Region,
    Site,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PermissionInfo {
    pub name: &'static str,
    pub portal: Portal,
    pub description: &'static str,
    /// The scope levels at which an assignment gives this permission.
    pub scopes: &'static [ScopeLevel],
}

use Portal::{Admin, Client, Staff};
use ScopeLevel::{Org, Region, Site};

const ANY: &[ScopeLevel] = &[Org, Region, Site];
const ORG: &[ScopeLevel] = &[Org];
/// TrackTik: template rights take effect only from region level up.
const REGION_UP: &[ScopeLevel] = &[Org, Region];

const fn p(
    name: &'static str,
    portal: Portal,
    scopes: &'static [ScopeLevel],
    description: &'static str,
) -> PermissionInfo {
    PermissionInfo { name, portal, description, scopes }
}

pub const CATALOGUE: &[PermissionInfo] = &[
    // Every user, about themselves.
    p("self:read", Staff, ANY, "Read one's own profile, sites, shifts and time entries"),
    // Organisation structure.
    p("regions:view", Admin, ORG, "List regions"),
    p("regions:create", Admin, ORG, "Create regions"),
    p("sites:view", Staff, ANY, "View sites and their sub-sites"),
    p("sites:create", Admin, REGION_UP, "Create sites, master sites and sub-sites"),
    p("sites:edit", Staff, ANY, "Edit a site's name, region, time zone, address and status"),
    p("site-employees:view", Staff, ANY, "See who is assigned to a site"),
    p("site-employees:assign", Staff, ANY, "Assign employees to a site and remove them"),
    // Employees (TrackTik: create, modify, terminate, reset passwords; sensitive fields apart).
    p("employees:view", Staff, ANY, "View employees of the sites in scope"),
    p("employees:create", Staff, ANY, "Create employees"),
    p("employees:modify", Staff, ANY, "Modify employees"),
    p("employees:terminate", Staff, ANY, "Terminate employees (nothing is deleted)"),
    p("employees:reset-password", Staff, ANY, "Set a new password for an employee"),
    p("employees:view-sensitive", Staff, ANY, "See pay rates, birthday, personal phones and address"),
    // Time keeping and schedules.
    p("time:clock", Staff, ANY, "Clock in and out and take breaks at a site, for oneself"),
    p("time-entries:view", Staff, ANY, "See who clocked in at a site, and who is there now"),
    p("shifts:view", Staff, ANY, "See a site's shifts"),
    p("shifts:create", Staff, ANY, "Schedule shifts at a site"),
    p("schedules:view", Staff, ANY, "View a site's schedule"),
    p("schedules:prepare", Staff, ANY, "Prepare a site's schedule"),
    // Reports, templates, tours.
    p("reports:create", Staff, ANY, "Write reports at a site"),
    p("reports:view", Staff, ANY, "Read a site's reports"),
    p("report-templates:create", Staff, REGION_UP, "Create report templates (region level and up only)"),
    p("report-templates:edit", Staff, REGION_UP, "Edit report templates (region level and up only)"),
    p("tours:view", Staff, ANY, "See scheduled tours and when they were last done"),
    p("tours:manage", Staff, ANY, "Create and change tours and their checkpoints"),
    // Site contacts and client access.
    p("site-contacts:view", Staff, ANY, "See a site's contacts"),
    p("site-contacts:manage", Staff, ANY, "Create and edit a site's contacts"),
    p("client-access:view", Staff, ANY, "See who has client portal access to a site"),
    p("client-access:create", Staff, ANY, "Give a client portal access to a site and its sub-sites"),
    p("client-access:edit", Staff, ANY, "Change a client's access"),
    p("client-access:revoke", Staff, ANY, "Revoke a client's portal access"),
    // The manager dashboard of the onsite licence.
    p("dashboard:general-access", Staff, ANY, "Open the manager dashboard"),
    p("dashboard:map-and-track", Staff, ANY, "View the map and track panels"),
    p("dashboard:reports", Staff, ANY, "View the dashboard reports"),
    p("dashboard:shift-reports", Staff, ANY, "View the shift reports of a site's employees"),
    p("dashboard:tours", Staff, ANY, "View the tours dashboard"),
    p("dashboard:patrol-checkpoints", Staff, ANY, "View patrol checkpoints and tours"),
    p("dashboard:patrol-recordings", Staff, ANY, "View watch mode recordings from the field"),
    p("dashboard:exceptions", Staff, ANY, "View exceptions: missed shifts, late check-ins, panic"),
    p("dashboard:broadcast-and-remote-tasks", Staff, ANY, "Broadcast messages and use remote tasks"),
    // Access control itself.
    p("roles:view", Admin, ORG, "View roles and the permission catalogue"),
    p("roles:manage", Admin, ORG, "Create, edit and delete custom roles"),
    p("role-assignments:manage", Admin, ANY, "Give and take roles over a scope"),
    p("audit:view", Admin, ORG, "Read the audit trail of access changes"),
    p("access:review", Admin, ORG, "Explain any user's access and list the quarterly access review"),
    p("integrations:manage", Admin, ORG, "Create integration users and rotate their client secrets"),
    p("notifications:view", Admin, ORG, "See the outbox: sent, pending and failed emails and SMS"),
    // The client portal's screens (ClickTime: View and Maintain per screen; read only by default).
    p("client-dashboard:view", Client, &[Site], "See the live dashboard of one's sites"),
    p("client-schedule:view", Client, &[Site], "See the roster of one's sites"),
    p("client-schedule:maintain", Client, &[Site], "Change the roster of one's sites"),
    p("client-timesheets:view", Client, &[Site], "See timesheets of one's sites"),
    p("client-timesheets:maintain", Client, &[Site], "Approve or correct timesheets of one's sites"),
    p("client-reports:view", Client, &[Site], "Read reports of one's sites"),
    p("client-reports:maintain", Client, &[Site], "Comment on and file reports of one's sites"),
    p("client-site-contacts:view", Client, &[Site], "See one's sites' contacts"),
    p("client-site-contacts:maintain", Client, &[Site], "Keep one's sites' contacts up to date"),
];

/// Permissions that act only for their holder (reading oneself, clocking oneself in, writing
/// one's own reports): holding them gives no power over anyone else.
pub const SELF_SERVICE: &[&str] = &["self:read", "time:clock", "reports:create"];

/// The catalogue entry of a permission name.
pub fn find(name: &str) -> Option<&'static PermissionInfo> {
    CATALOGUE.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_shaped_resource_colon_action() {
        let names: BTreeSet<_> = CATALOGUE.iter().map(|p| p.name).collect();
        assert_eq!(names.len(), CATALOGUE.len());
        for p in CATALOGUE {
            let (resource, action) = p.name.split_once(':').unwrap_or_default();
            let kebab = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '-');
            assert!(kebab(resource) && kebab(action), "{}", p.name);
            assert!(!p.scopes.is_empty() && !p.description.is_empty(), "{}", p.name);
        }
    }

    #[test]
    fn client_screens_come_in_view_and_maintain_and_belong_to_the_client_portal() {
        for p in CATALOGUE.iter().filter(|p| p.portal == Portal::Client) {
            assert!(p.name.ends_with(":view") || p.name.ends_with(":maintain"), "{}", p.name);
            assert!(p.name.starts_with("client-"), "{}", p.name);
        }
        assert!(find("client-schedule:view").is_some() && find("client-schedule:maintain").is_some());
    }

    #[test]
    fn report_templates_take_effect_only_from_region_level_up() {
        for name in ["report-templates:create", "report-templates:edit"] {
            assert_eq!(find(name).map(|p| p.scopes), Some(REGION_UP));
        }
    }

    #[test]
    fn every_permission_the_code_checks_is_in_the_catalogue() {
        for p in super::super::Permission::ALL {
            assert!(find(p.name()).is_some(), "{} is checked but not catalogued", p.name());
        }
    }
}
