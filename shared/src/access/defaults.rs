//! The six roles every organisation starts with. Only superusers may edit them (TrackTik); none
//! may be deleted. Guards get only self-service permissions, so an organisation-wide Guard
//! assignment shows them nothing of other sites: clocking in still needs a site assignment.

use chrono::{DateTime, Utc};

use super::catalogue::{CATALOGUE, Portal};
use crate::domain::RoleId;
use crate::records::role::{ApiAccess, Role};

const MANAGER: &[&str] = &[
    "sites:view",
    "sites:edit",
    "site-employees:view",
    "site-employees:assign",
    "employees:view",
    "employees:create",
    "employees:modify",
    "employees:terminate",
    "employees:reset-password",
    "time:clock",
    "time-entries:view",
    "shifts:view",
    "shifts:create",
    "schedules:view",
    "schedules:prepare",
    "reports:create",
    "reports:view",
    "report-templates:create",
    "report-templates:edit",
    "tours:view",
    "tours:manage",
    "site-contacts:view",
    "site-contacts:manage",
    "client-access:view",
    "client-access:create",
    "client-access:edit",
    "client-access:revoke",
    "dashboard:general-access",
    "dashboard:map-and-track",
    "dashboard:reports",
    "dashboard:shift-reports",
    "dashboard:tours",
    "dashboard:patrol-checkpoints",
    "dashboard:patrol-recordings",
    "dashboard:exceptions",
    "dashboard:broadcast-and-remote-tasks",
];

const SUPERVISOR: &[&str] = &[
    "sites:view",
    "site-employees:view",
    "employees:view",
    "time:clock",
    "time-entries:view",
    "shifts:view",
    "schedules:view",
    "reports:create",
    "reports:view",
    "tours:view",
    "site-contacts:view",
    "client-access:view",
    "dashboard:general-access",
    "dashboard:map-and-track",
    "dashboard:shift-reports",
    "dashboard:tours",
    "dashboard:patrol-checkpoints",
    "dashboard:exceptions",
];

const GUARD: &[&str] = &["time:clock", "reports:create"];

/// ClickTime: client roles are read-only until someone gives them Maintain.
const CLIENT: &[&str] = &[
    "client-dashboard:view",
    "client-schedule:view",
    "client-timesheets:view",
    "client-reports:view",
    "client-site-contacts:view",
];

fn sorted(names: impl IntoIterator<Item = &'static str>) -> Vec<String> {
    let mut v: Vec<String> = names.into_iter().map(str::to_owned).collect();
    v.sort();
    v.dedup();
    v
}

/// The default roles, as they are seeded.
pub fn default_roles(now: DateTime<Utc>) -> Vec<Role> {
    let admin = CATALOGUE.iter().filter(|p| p.portal != Portal::Client).map(|p| p.name);
    let role = |id: &'static str, name: &str, portal, permissions: Vec<String>, description: &str| Role {
        id: RoleId::default_role(id),
        name: name.to_owned(),
        description: description.to_owned(),
        portal,
        permissions,
        api_access: ApiAccess::Block,
        allowed_cidrs: Vec::new(),
        default: true,
        created_at: now,
        updated_at: now,
    };
    vec![
        role(
            "administrator",
            "Administrator",
            Portal::Admin,
            sorted(admin),
            "Everything in the admin and staff portals",
        ),
        role(
            "manager",
            "Manager",
            Portal::Staff,
            sorted(MANAGER.iter().copied()),
            "Runs the sites and employees in scope",
        ),
        role(
            "supervisor",
            "Supervisor",
            Portal::Staff,
            sorted(SUPERVISOR.iter().copied()),
            "Oversees the sites in scope",
        ),
        role("guard", "Guard", Portal::Staff, sorted(GUARD.iter().copied()), "Clocks in and files reports"),
        role("client", "Client", Portal::Client, sorted(CLIENT.iter().copied()), "Sees their own sites, read only"),
        role("terminated", "Terminated", Portal::Staff, Vec::new(), "No access at all; overrides every other role"),
    ]
}

/// Whether a permission may belong to a role of this portal: client roles hold only client
/// permissions, staff roles only staff ones, admin roles admin and staff ones.
pub fn portal_allows(role: Portal, permission: Portal) -> bool {
    match role {
        Portal::Client => permission == Portal::Client,
        Portal::Staff => permission == Portal::Staff,
        Portal::Admin => permission != Portal::Client,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::catalogue;

    #[test]
    fn default_roles_hold_only_catalogued_permissions_of_their_portal() {
        for role in default_roles(Utc::now()) {
            for p in &role.permissions {
                let info = catalogue::find(p).unwrap_or_else(|| panic!("{p} is not catalogued"));
                assert!(portal_allows(role.portal, info.portal), "{} holds {p}", role.name);
            }
            assert!(role.permissions.windows(2).all(|w| w[0] < w[1]), "{} is not sorted", role.name);
        }
    }
}
