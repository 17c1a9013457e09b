//! The key schema. Every partition key starts with `T#{org}`: no key can name two tenants, so no
//! query can cross them. Ids are ULIDs or validated slugs/logins; none contains a key that could
//! be confused with another entity's because every partition key ends in a fixed entity tag
//! followed by at most one free value.

use chrono::{DateTime, Utc};

use super::sort_time;
use crate::domain::{OrgSlug, RegionId, RoleId, SessionId, ShiftId, SiteId, TimeEntryId, UserId};
use crate::store::{IndexKey, Key};

fn t(org: &OrgSlug) -> String {
    format!("T#{org}")
}

pub fn org(org: &OrgSlug) -> Key {
    Key::new(t(org), "ORG")
}

/// The one partition that is not a tenant's: the list of organisation slugs, so that the local
/// outbox dispatcher can find every organisation. It holds nothing but the slugs.
pub const ORG_DIRECTORY: &str = "SYS#ORGS";
pub fn org_directory_entry(org: &OrgSlug) -> Key {
    Key::new(ORG_DIRECTORY, org.to_string())
}

pub fn regions(org: &OrgSlug) -> String {
    format!("{}#REGIONS", t(org))
}
pub fn region(org: &OrgSlug, id: &RegionId) -> Key {
    Key::new(regions(org), id.to_string())
}

pub fn sites(org: &OrgSlug) -> String {
    format!("{}#SITES", t(org))
}
pub fn site(org: &OrgSlug, id: &SiteId) -> Key {
    Key::new(sites(org), id.to_string())
}
/// GSI1 of a sub-site: listed under its master site.
pub fn sub_sites(org: &OrgSlug, master: &SiteId) -> String {
    format!("{}#SITE#{master}#SUBSITES", t(org))
}
/// GSI2 of a site: listed under its region.
pub fn region_sites(org: &OrgSlug, region: &RegionId) -> String {
    format!("{}#REGION#{region}#SITES", t(org))
}

pub fn users(org: &OrgSlug) -> String {
    format!("{}#USERS", t(org))
}
pub fn user(org: &OrgSlug, id: &UserId) -> Key {
    Key::new(users(org), id.to_string())
}
/// The partition of items that belong to one user (credential, site assignments, login activity).
pub fn user_items(org: &OrgSlug, id: &UserId) -> String {
    format!("{}#USER#{id}", t(org))
}
pub fn credential(org: &OrgSlug, id: &UserId) -> Key {
    Key::new(user_items(org, id), "CREDENTIAL")
}
pub const SITE_ASSIGNMENT_PREFIX: &str = "SITE#";
pub fn site_assignment(org: &OrgSlug, user: &UserId, site: &SiteId) -> Key {
    Key::new(user_items(org, user), format!("{SITE_ASSIGNMENT_PREFIX}{site}"))
}
/// GSI1 of a site assignment: the employees of a site.
pub fn site_employees(org: &OrgSlug, site: &SiteId) -> String {
    format!("{}#SITE#{site}#EMPLOYEES", t(org))
}
pub fn site_employee_index(org: &OrgSlug, site: &SiteId, user: &UserId) -> IndexKey {
    IndexKey::new(site_employees(org, site), user.to_string())
}

/// A login name (lower-case email or username) claimed by one user; also holds the recent
/// failed attempts for that name, known user or not.
pub fn login(org: &OrgSlug, login: &str) -> Key {
    Key::new(format!("{}#LOGIN#{login}", t(org)), "LOGIN")
}
pub fn login_failures(org: &OrgSlug, login: &str) -> Key {
    Key::new(format!("{}#LOGIN#{login}", t(org)), "FAILURES")
}
pub fn employee_number(org: &OrgSlug, number: &str) -> Key {
    Key::new(format!("{}#EMPNO#{}", t(org), number.to_ascii_uppercase()), "EMPNO")
}
/// Login activity of a known user sits in the user's partition; attempts on unknown logins in
/// one partition per organisation.
pub fn login_activity_of_unknown(org: &OrgSlug) -> String {
    format!("{}#LOGINS#UNKNOWN", t(org))
}
pub const LOGIN_ACTIVITY_PREFIX: &str = "LOGIN#";

pub fn session(org: &OrgSlug, id: &SessionId) -> Key {
    Key::new(format!("{}#SESSION#{id}", t(org)), "SESSION")
}

pub fn idempotency(org: &OrgSlug, caller: &str, key_hash: &str) -> Key {
    Key::new(format!("{}#IDEMPOTENCY#{caller}#{key_hash}", t(org)), "RESPONSE")
}

/// Shifts of a site, by start time.
pub fn site_shifts(org: &OrgSlug, site: &SiteId) -> String {
    format!("{}#SITE#{site}#SHIFTS", t(org))
}
pub fn site_shift(org: &OrgSlug, site: &SiteId, start: DateTime<Utc>, id: &ShiftId) -> Key {
    Key::new(site_shifts(org, site), format!("{}#{id}", sort_time(start)))
}
/// The employee's copy of a shift, in their own partition (read consistently at clock-in).
pub const SHIFT_PREFIX: &str = "SHIFT#";
pub fn user_shift(org: &OrgSlug, user: &UserId, start: DateTime<Utc>, id: &ShiftId) -> Key {
    Key::new(user_items(org, user), format!("{SHIFT_PREFIX}{}#{id}", sort_time(start)))
}

/// A time entry, in the employee's partition; GSI1 lists it under its site.
pub const TIME_ENTRY_PREFIX: &str = "TIME#";
pub fn time_entry(org: &OrgSlug, user: &UserId, clock_in: DateTime<Utc>, id: &TimeEntryId) -> Key {
    Key::new(user_items(org, user), format!("{TIME_ENTRY_PREFIX}{}#{id}", sort_time(clock_in)))
}
pub fn site_time_entries(org: &OrgSlug, site: &SiteId) -> String {
    format!("{}#SITE#{site}#TIME", t(org))
}
pub fn site_time_entry_index(org: &OrgSlug, site: &SiteId, clock_in: DateTime<Utc>, id: &TimeEntryId) -> IndexKey {
    IndexKey::new(site_time_entries(org, site), format!("{}#{id}", sort_time(clock_in)))
}
/// Present exactly while the employee is clocked in: its conditional creation is what makes
/// "at most one open time entry per employee" hold under concurrency.
pub fn clock_state(org: &OrgSlug, user: &UserId) -> Key {
    Key::new(user_items(org, user), "CLOCK")
}

/// Bumped by every change to an employee's schedule, so that "no overlapping shift" (checked by
/// reading) holds when two schedulers write at once.
pub fn schedule_version(org: &OrgSlug, user: &UserId) -> Key {
    Key::new(user_items(org, user), "SCHEDULE")
}

/// Roles of the organisation, one item each.
pub fn roles(org: &OrgSlug) -> String {
    format!("{}#ROLES", t(org))
}
pub fn role(org: &OrgSlug, id: &RoleId) -> Key {
    Key::new(roles(org), id.to_string())
}
/// A role name (lower case) claimed by one role: names are unique per organisation.
pub fn role_name(org: &OrgSlug, name: &str) -> Key {
    Key::new(format!("{}#ROLENAME#{}", t(org), name.to_lowercase()), "ROLENAME")
}

/// Every user's role assignments, one item per user, in one partition per organisation.
pub fn access(org: &OrgSlug) -> String {
    format!("{}#ACCESS", t(org))
}
pub fn user_access(org: &OrgSlug, user: &UserId) -> Key {
    Key::new(access(org), user.to_string())
}
/// The days a user's assignments last allowed something (written at most once a day per
/// process), in a partition of their own: the read-only functions may write there and nowhere
/// else (`NoteAssignmentUsePolicy` allows `PutItem` on leading keys `T#*#USAGE#*` only), so
/// they cannot touch the user's own partition, where the password hash is.
pub fn usage_items(org: &OrgSlug, user: &UserId) -> String {
    format!("{}#USAGE#{user}", t(org))
}
pub fn assignment_usage(org: &OrgSlug, user: &UserId, assignment: &crate::domain::AssignmentId) -> Key {
    Key::new(usage_items(org, user), assignment.to_string())
}
/// Where versions before 2026-12-08 noted an assignment's use: in the user's partition, sort key
/// `USAGE#{assignment}`. Still read by the access review; no longer written.
pub const LEGACY_USAGE_PREFIX: &str = "USAGE#";

/// The audit trail of access changes, by time.
pub fn audit(org: &OrgSlug) -> String {
    format!("{}#AUDIT", t(org))
}
pub fn audit_entry(org: &OrgSlug, at: DateTime<Utc>, id: &ulid::Ulid) -> Key {
    Key::new(audit(org), format!("{}#{id}", sort_time(at)))
}

/// An integration's name, claimed: names are unique per organisation, so a retried creation
/// cannot make a second one.
pub fn integration_name(org: &OrgSlug, name: &str) -> Key {
    Key::new(format!("{}#INTEGRATION#{}", t(org), name.to_lowercase()), "INTEGRATION")
}

/// An integration user's client secret (its SHA-256 hash); the client id is `{org}.{user id}`.
pub fn client_secret(org: &OrgSlug, user: &UserId) -> Key {
    Key::new(user_items(org, user), "CLIENTSECRET")
}

/// GSI1 of a user who reports to `manager`: the people directly below a manager (the directory's
/// hierarchy).
pub fn reports_to(org: &OrgSlug, manager: &UserId) -> String {
    format!("{}#REPORTS#{manager}", t(org))
}

/// Recent failed logins against an account (whichever login name was typed).
pub fn account_failures(org: &OrgSlug, user: &UserId) -> Key {
    Key::new(user_items(org, user), "LOGINFAILURES")
}
/// A client address's login-attempt bucket in the organisation.
pub fn address_bucket(org: &OrgSlug, address: &str) -> Key {
    Key::new(format!("{}#ADDRESS#{address}", t(org)), "BUCKET")
}
/// Hashes of the device tokens of the devices a user logged in from.
pub fn known_devices(org: &OrgSlug, user: &UserId) -> Key {
    Key::new(user_items(org, user), "DEVICES")
}

/// A migration step done for the organisation (see `guardpost migrate`).
pub fn migration(org: &OrgSlug, step: &str) -> Key {
    Key::new(format!("{}#MIGRATIONS", t(org)), step.to_owned())
}

/// When the user last logged in.
pub fn last_login(org: &OrgSlug, user: &UserId) -> Key {
    Key::new(user_items(org, user), "LASTLOGIN")
}

/// A client user's portal access, in their own partition; GSI1 lists it under its site.
pub fn client_access(org: &OrgSlug, user: &UserId) -> Key {
    Key::new(user_items(org, user), "CLIENTACCESS")
}
pub fn site_clients(org: &OrgSlug, site: &SiteId) -> String {
    format!("{}#SITE#{site}#CLIENTS", t(org))
}
pub fn site_client_index(org: &OrgSlug, site: &SiteId, user: &UserId) -> IndexKey {
    IndexKey::new(site_clients(org, site), user.to_string())
}

/// What a user wants to be told of, and how.
pub fn notification_preferences(org: &OrgSlug, user: &UserId) -> Key {
    Key::new(user_items(org, user), "NOTIFYPREFS")
}

/// Files of a user (licences, certifications, pictures), by id.
pub const FILE_PREFIX: &str = "FILE#";
pub fn user_file(org: &OrgSlug, user: &UserId, file: &crate::domain::FileId) -> Key {
    Key::new(user_items(org, user), format!("{FILE_PREFIX}{file}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::AssignmentId;

    /// IAM's `StringLike`: `*` matches any run of characters, `#` included.
    fn like(pattern: &str, text: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == text,
            Some((head, rest)) => text.starts_with(head) && (head.len()..=text.len()).any(|i| like(rest, &text[i..])),
        }
    }

    /// The leading keys `NoteAssignmentUsePolicy` lets the read-only functions write
    /// (infra/template.yaml): usage partitions match, a user's own partition (with the password
    /// hash) and the organisation's others do not.
    #[test]
    fn only_usage_partitions_match_the_note_writers_leading_keys() {
        const WRITABLE: &str = "T#*#USAGE#*";
        let org = OrgSlug::parse("acme-security").unwrap();
        let user = UserId::parse("01HZX3Q7D6M9V2K8T4R5W1N0PB").unwrap();
        let assignment = AssignmentId::parse("01HZX3Q7D6M9V2K8T4R5W1N0PC").unwrap();
        assert!(like(WRITABLE, &assignment_usage(&org, &user, &assignment).pk));
        for pk in [user_items(&org, &user), credential(&org, &user).pk, access(&org), user_access(&org, &user).pk] {
            assert!(!like(WRITABLE, &pk), "{pk} is writable by the note writers");
        }
        assert!(like("T#*#USAGE#*", "T#a#USAGE#b") && !like("T#*#USAGE#*", "T#a#USER#b"));
    }
}
