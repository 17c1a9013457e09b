//! The one decision point: `authorize(state, principal, permission, resource)`, deny by default,
//! read from the base table on every request (nothing is baked into tokens), so a change to a
//! role or an assignment takes effect on the caller's next request. Handlers receive a
//! [`Granted`] only after an allow, and the use cases that change things take one, so code that
//! skipped the check does not compile.
//!
//! The caller's assignments arrive with the principal (authentication reads them in the same
//! batch as the session); deciding reads the roles they name and the target's facts in one more
//! batch (two for a user target: their site assignments, then those sites). The rules live in
//! [`decision`], which has no store and no HTTP.

pub mod catalogue;
pub mod decision;
pub mod defaults;
pub mod schema;
pub mod usage;

use serde::Serialize;

use crate::auth::Principal;
use crate::domain::{OrgSlug, RegionId, SiteId, UserId};
use crate::error::AppError;
use crate::records::role::{self, Assignment, Role};
use crate::records::site::Site;
use crate::records::user::SiteAssignment;
use crate::records::{Versioned, keys, site};
use crate::state::AppState;
use crate::store::{Query, Store};
pub use decision::{Coverage, Decision, DenialReason, SiteFacts, Subject, Target};

/// The roles a request's caller holds, read at most once per request.
pub type RolesCache = tokio::sync::OnceCell<Vec<Role>>;

/// A permission the code checks: a `resource:action` name of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Permission(&'static str);

macro_rules! permissions {
    ($($konst:ident = $name:literal),* $(,)?) => {
        impl Permission {
            $(pub const $konst: Permission = Permission($name);)*
            /// Every permission the code checks (a test holds them to the catalogue).
            pub const ALL: &'static [Permission] = &[$(Self::$konst),*];
        }
    };
}

permissions! {
    SELF_READ = "self:read",
    REGIONS_VIEW = "regions:view",
    REGIONS_CREATE = "regions:create",
    SITES_VIEW = "sites:view",
    SITES_CREATE = "sites:create",
    SITES_EDIT = "sites:edit",
    SITE_EMPLOYEES_VIEW = "site-employees:view",
    SITE_EMPLOYEES_ASSIGN = "site-employees:assign",
    EMPLOYEES_VIEW = "employees:view",
    EMPLOYEES_CREATE = "employees:create",
    EMPLOYEES_TERMINATE = "employees:terminate",
    EMPLOYEES_VIEW_SENSITIVE = "employees:view-sensitive",
    EMPLOYEES_MODIFY = "employees:modify",
    EMPLOYEES_RESET_PASSWORD = "employees:reset-password",
    CLIENT_ACCESS_VIEW = "client-access:view",
    CLIENT_ACCESS_CREATE = "client-access:create",
    CLIENT_ACCESS_EDIT = "client-access:edit",
    CLIENT_ACCESS_REVOKE = "client-access:revoke",
    CLIENT_DASHBOARD_VIEW = "client-dashboard:view",
    CLIENT_SCHEDULE_VIEW = "client-schedule:view",
    CLIENT_TIMESHEETS_VIEW = "client-timesheets:view",
    CLIENT_TIMESHEETS_MAINTAIN = "client-timesheets:maintain",
    SHIFTS_VIEW = "shifts:view",
    SHIFTS_CREATE = "shifts:create",
    TIME_CLOCK = "time:clock",
    TIME_ENTRIES_VIEW = "time-entries:view",
    NOTIFICATIONS_VIEW = "notifications:view",
    ROLES_VIEW = "roles:view",
    ROLES_MANAGE = "roles:manage",
    ROLE_ASSIGNMENTS_MANAGE = "role-assignments:manage",
    ACCESS_REVIEW = "access:review",
    AUDIT_VIEW = "audit:view",
    INTEGRATIONS_MANAGE = "integrations:manage",
    DASHBOARD_EXCEPTIONS = "dashboard:exceptions",
}

impl Permission {
    pub const fn name(self) -> &'static str {
        self.0
    }
}

/// What the permission is exercised on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Organisation,
    Region(RegionId),
    Site(SiteId),
    User(UserId),
}

/// Proof that a decision allowed the caller to act; only this module makes one. It keeps the
/// facts the decision read, so the handler neither reads them again nor decides a second
/// permission on the same target with more reads.
#[derive(Debug)]
pub struct Granted {
    permission: Permission,
    resource: Resource,
    target: Target,
    site: Option<Versioned<Site>>,
}

impl Granted {
    pub fn permission(&self) -> Permission {
        self.permission
    }
    pub fn resource(&self) -> Resource {
        self.resource
    }

    /// The site the decision read (base table, with its version), for a site resource.
    pub fn into_site(self) -> Option<Versioned<Site>> {
        self.site
    }

    pub fn site(&self) -> Option<&Versioned<Site>> {
        self.site.as_ref()
    }

    /// Whether the caller also holds `permission` on the same target (e.g. to see sensitive
    /// fields): no store read, the request's roles are already at hand.
    pub async fn also(
        &self,
        state: &AppState,
        principal: &Principal,
        permission: Permission,
    ) -> Result<bool, AppError> {
        let (roles, _) = roles_and(
            state.store.as_ref(),
            &principal.org,
            &principal.access.assignments,
            vec![],
            Some(&principal.roles),
        )
        .await?;
        Ok(decision::decide(&subject(principal, &roles), permission.name(), &self.target, state.now()).allowed)
    }
}

/// Proof that the caller holds a permission somewhere, with where: listings keep what it covers.
#[derive(Debug)]
pub struct Scoped {
    pub permission: Permission,
    pub coverage: Coverage,
}

impl Scoped {
    pub fn covers_site(&self, site: &Site) -> bool {
        self.coverage.covers(&Target::Site(facts(site)))
    }
}

/// The facts of a site the decision needs.
pub fn facts(site: &Site) -> SiteFacts {
    SiteFacts { id: site.id, region: site.region_id, parent: site.parent_site_id }
}

/// Reads the roles the assignments name (in effect or not: explain shows them all).
async fn roles_and(
    store: &dyn Store,
    org: &OrgSlug,
    assignments: &[Assignment],
    extra: Vec<crate::store::Key>,
    cache: Option<&RolesCache>,
) -> Result<(Vec<Role>, Vec<crate::store::Item>), AppError> {
    if let Some(roles) = cache.and_then(|c| c.get()) {
        let rest = if extra.is_empty() { Vec::new() } else { store.batch_get(&extra).await? };
        return Ok((roles.clone(), rest));
    }
    let (roles, rest) = read_roles_and(store, org, assignments, extra).await?;
    if let Some(cache) = cache {
        let _ = cache.set(roles.clone());
    }
    Ok((roles, rest))
}

async fn read_roles_and(
    store: &dyn Store,
    org: &OrgSlug,
    assignments: &[Assignment],
    extra: Vec<crate::store::Key>,
) -> Result<(Vec<Role>, Vec<crate::store::Item>), AppError> {
    let mut ids: Vec<_> = assignments.iter().map(|a| a.role_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut keys: Vec<_> = ids.iter().map(|id| keys::role(org, id)).collect();
    let n_roles = keys.len();
    // A key asked for twice (an extra that is also one of the roles) is read once.
    for k in &extra {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    if keys.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    // One request unless a user's assignments name more than 100 roles.
    let mut items = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(crate::store::MAX_BATCH_GET) {
        items.extend(store.batch_get(chunk).await?);
    }
    let role_keys = &keys[..n_roles];
    let mut roles = Vec::with_capacity(n_roles);
    let mut rest = Vec::new();
    for item in items {
        let is_role = item.kind == role::KIND && role_keys.contains(&item.key);
        if is_role {
            roles.push(item.parse_shared()?);
        }
        if !is_role || extra.contains(&item.key) {
            rest.push(item);
        }
    }
    Ok((roles, rest))
}

/// The sites a user is assigned to, with their facts (two reads: the assignments, then the sites).
pub async fn user_sites(store: &dyn Store, org: &OrgSlug, user: &UserId) -> Result<Vec<SiteFacts>, AppError> {
    let query = Query::table(keys::user_items(org, user)).prefix(keys::SITE_ASSIGNMENT_PREFIX);
    let mut site_ids = Vec::new();
    for item in crate::store::read_all(store, &query).await? {
        site_ids.push(item.parse::<SiteAssignment>()?.site_id);
    }
    let mut out = Vec::with_capacity(site_ids.len());
    for chunk in site_ids.chunks(crate::store::MAX_BATCH_GET) {
        let keys: Vec<_> = chunk.iter().map(|id| keys::site(org, id)).collect();
        for item in store.batch_get(&keys).await? {
            if item.kind == site::KIND {
                out.push(facts(&item.parse::<Site>()?));
            }
        }
    }
    Ok(out)
}

/// Reads the roles named by `assignments` and the facts of `resource`; "not found" when the
/// resource does not exist in the organisation.
pub async fn gather(
    store: &dyn Store,
    org: &OrgSlug,
    assignments: &[Assignment],
    resource: Resource,
) -> Result<(Vec<Role>, Target), AppError> {
    let facts = gather_with(store, org, assignments, resource, None, vec![]).await?;
    Ok((facts.roles, facts.target))
}

/// [`gather`] for the caller, reusing the roles this request already read.
pub async fn gather_for(
    state: &AppState,
    principal: &Principal,
    resource: Resource,
) -> Result<(Vec<Role>, Target), AppError> {
    let store = state.store.as_ref();
    let facts =
        gather_with(store, &principal.org, &principal.access.assignments, resource, Some(&principal.roles), vec![])
            .await?;
    Ok((facts.roles, facts.target))
}

/// What a decision reads: the roles, the target's facts and, for a site, the site itself; and
/// the items the handler asked to read along (`extra`).
struct Facts {
    roles: Vec<Role>,
    target: Target,
    site: Option<Versioned<Site>>,
    extra: Vec<crate::store::Item>,
}

/// [`gather`], reusing (or filling) a request's roles cache, and reading `extra` keys in the
/// same batch as the roles.
async fn gather_with(
    store: &dyn Store,
    org: &OrgSlug,
    assignments: &[Assignment],
    resource: Resource,
    cache: Option<&RolesCache>,
    extra: Vec<crate::store::Key>,
) -> Result<Facts, AppError> {
    let plain = |(roles, extra), target| Facts { roles, target, site: None, extra };
    match resource {
        Resource::Organisation => Ok(plain(roles_and(store, org, assignments, extra, cache).await?, Target::Org)),
        Resource::Region(id) => Ok(plain(roles_and(store, org, assignments, extra, cache).await?, Target::Region(id))),
        Resource::Site(id) => {
            let site_key = keys::site(org, &id);
            let mut wanted = extra;
            wanted.push(site_key.clone());
            let (roles, mut rest) = roles_and(store, org, assignments, wanted, cache).await?;
            let at = rest
                .iter()
                .position(|i| i.key == site_key && i.kind == site::KIND)
                .ok_or(AppError::NotFound("site"))?;
            let item = rest.swap_remove(at);
            let site = Versioned { record: item.parse::<Site>()?, version: item.version };
            Ok(Facts { roles, target: Target::Site(facts(&site.record)), site: Some(site), extra: rest })
        }
        Resource::User(id) => {
            let (read, sites) =
                tokio::try_join!(roles_and(store, org, assignments, extra, cache), user_sites(store, org, &id))?;
            Ok(plain(read, Target::User { id, sites }))
        }
    }
}

fn subject<'a>(principal: &'a Principal, roles: &'a [Role]) -> Subject<'a> {
    Subject { user: &principal.user, assignments: &principal.access.assignments, roles, ip: principal.ip }
}

/// Deny by default: `Forbidden` unless the decision allows (`api-access-blocked` for an
/// integration user whose roles do not grant API access from here).
pub async fn authorize(
    state: &AppState,
    principal: &Principal,
    permission: Permission,
    resource: Resource,
) -> Result<Granted, AppError> {
    Ok(authorize_reading(state, principal, permission, resource, vec![]).await?.0)
}

/// [`authorize`], reading `extra` items in the same store round trip as the decision's facts:
/// answers them (those that exist) beside the grant, once the decision allowed.
pub async fn authorize_reading(
    state: &AppState,
    principal: &Principal,
    permission: Permission,
    resource: Resource,
    extra: Vec<crate::store::Key>,
) -> Result<(Granted, Vec<crate::store::Item>), AppError> {
    let facts = gather_with(
        state.store.as_ref(),
        &principal.org,
        &principal.access.assignments,
        resource,
        Some(&principal.roles),
        extra,
    )
    .await?;
    let decision = decision::decide(&subject(principal, &facts.roles), permission.name(), &facts.target, state.now());
    if decision.allowed {
        usage::record(state.store.as_ref(), &state.usage, state.now().date_naive(), principal, &decision).await;
        Ok((Granted { permission, resource, target: facts.target, site: facts.site }, facts.extra))
    } else if hidden_from_client(principal, &facts.target, state.now()) {
        Err(AppError::NotFound("site"))
    } else {
        Err(refusal(permission, &decision))
    }
}

/// A client user sees the sites their accesses reach and nothing else: any other site (a
/// sub-site set to "No" included) answers exactly as a site that does not exist.
fn hidden_from_client(principal: &Principal, target: &Target, now: chrono::DateTime<chrono::Utc>) -> bool {
    principal.user.kind == crate::records::user::UserKind::Client
        && matches!(target, Target::Site(_))
        && !principal.access.assignments.iter().any(|a| a.validity(now) == role::Validity::InEffect && a.covers(target))
}

/// The caller reading themselves (`self:read`): allowed unless they are terminated or, for an
/// integration, blocked from the API.
pub async fn authorize_self(state: &AppState, principal: &Principal) -> Result<Granted, AppError> {
    authorize(state, principal, Permission::SELF_READ, Resource::Organisation).await
}

/// The permission somewhere: `Forbidden` unless at least one assignment gives it at some scope.
pub async fn authorize_listing(
    state: &AppState,
    principal: &Principal,
    permission: Permission,
) -> Result<Scoped, AppError> {
    let (roles, _) =
        roles_and(state.store.as_ref(), &principal.org, &principal.access.assignments, vec![], Some(&principal.roles))
            .await?;
    let subject = subject(principal, &roles);
    let coverage = decision::coverage(&subject, permission.name(), state.now());
    if coverage.is_empty() {
        let decision = decision::decide(&subject, permission.name(), &Target::Org, state.now());
        return Err(refusal(permission, &decision));
    }
    Ok(Scoped { permission, coverage })
}

fn refusal(permission: Permission, decision: &Decision) -> AppError {
    tracing::info!(permission = permission.name(), reason = ?decision.reason, "access denied");
    match decision.reason {
        Some(DenialReason::ApiAccessBlocked) => {
            AppError::Denied { kind: "api-access-blocked", detail: decision.detail.clone() }
        }
        _ => AppError::Forbidden,
    }
}

/// The target an assignment's scope names ("not found" when the region or site does not exist).
pub async fn scope_target(store: &dyn Store, org: &OrgSlug, scope: &role::Scope) -> Result<Target, AppError> {
    match scope {
        role::Scope::Org => Ok(Target::Org),
        role::Scope::Region(id) => {
            store.get(&keys::region(org, id)).await?.ok_or(AppError::NotFound("region"))?;
            Ok(Target::Region(*id))
        }
        role::Scope::Site(id) => Ok(Target::Site(facts(&site::load(store, org, id).await?.record))),
    }
}

/// A new assignment, as the caller asks to give it.
#[derive(Clone, Copy, Debug)]
pub struct Grant<'a> {
    pub grantee: &'a UserId,
    pub role: &'a Role,
    pub scope: &'a role::Scope,
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Until when a decision's allowance lasts: `None` for as long as anything lasts (a
/// superuser, or a granting assignment without end), else the latest end among the granting
/// assignments.
fn horizon(decision: &Decision) -> Option<Option<chrono::DateTime<chrono::Utc>>> {
    if !decision.allowed {
        return None;
    }
    if decision.basis != Some(decision::Basis::Assignments) {
        return Some(None);
    }
    let grants = decision.assignments.iter().filter(|c| c.bearing == decision::Bearing::Grants);
    let mut latest = None;
    for c in grants {
        match c.valid_until {
            None => return Some(None),
            Some(until) => latest = latest.max(Some(until)),
        }
    }
    Some(latest)
}

/// Whether the caller may make this grant (`403 escalation` otherwise; superusers may make
/// any):
/// - no one gives themselves a role;
/// - the caller needs `role-assignments:manage` over the scope;
/// - a staff or admin role: the caller must hold every permission of the role over the scope,
///   so no one hands out more than they hold; a client portal role: `client-access:create`
///   over the scope;
/// - the new assignment must end no later than the caller's own rights to give it, so a
///   temporary right cannot be turned into a permanent one.
pub async fn may_grant(state: &AppState, principal: &Principal, grant: Grant<'_>) -> Result<(), AppError> {
    let escalation = |detail: String| AppError::Denied { kind: "escalation", detail };
    if principal.user.is_superuser && principal.user.kind != crate::records::user::UserKind::Integration {
        scope_target(state.store.as_ref(), &principal.org, grant.scope).await?;
        return Ok(());
    }
    if grant.grantee == &principal.user.id {
        return Err(escalation("no one gives themselves a role; ask another administrator".into()));
    }
    let target = scope_target(state.store.as_ref(), &principal.org, grant.scope).await?;
    let (roles, _) =
        roles_and(state.store.as_ref(), &principal.org, &principal.access.assignments, vec![], Some(&principal.roles))
            .await?;
    let subject = subject(principal, &roles);
    let now = state.now();
    let manage = decision::decide(&subject, Permission::ROLE_ASSIGNMENTS_MANAGE.name(), &target, now);
    if !manage.allowed {
        return Err(refusal(Permission::ROLE_ASSIGNMENTS_MANAGE, &manage));
    }
    let needed: Vec<&str> = if grant.role.portal == catalogue::Portal::Client {
        vec!["client-access:create"]
    } else {
        grant.role.permissions.iter().map(String::as_str).collect()
    };
    // The earliest end among the rights this grant rests on (none: they last).
    let mut ends: Vec<chrono::DateTime<chrono::Utc>> = horizon(&manage).flatten().into_iter().collect();
    for p in needed {
        match horizon(&decision::decide(&subject, p, &target, now)) {
            None => {
                let scope = grant.scope;
                return Err(escalation(format!(
                    "you cannot give a role needing {p} over {scope}: you do not hold it there yourself"
                )));
            }
            Some(end) => ends.extend(end),
        }
    }
    api_reach(principal, &roles, grant.role, now)?;
    if let Some(end) = ends.into_iter().min()
        && grant.valid_until.is_none_or(|asked| asked > end)
    {
        return Err(escalation(format!(
            "your own right to give this ends at {}; the new assignment must end by then (valid_until)",
            end.to_rfc3339()
        )));
    }
    Ok(())
}

/// Whether the caller may let someone keep a password set for them (ASVS 6.4.1: a password set by
/// a creator or a manager is changed at first login unless an administrator opts out for that
/// user): superusers, and those who reset passwords across the organisation
/// (`403 administrator-setting` otherwise).
pub async fn may_waive_password_change(state: &AppState, principal: &Principal) -> Result<(), AppError> {
    authorize(state, principal, Permission::EMPLOYEES_RESET_PASSWORD, Resource::Organisation).await.map(|_| ()).map_err(
        |_| AppError::Denied {
            kind: "administrator-setting",
            detail: "only an administrator lets someone keep a password set for them (force_change: false)".into(),
        },
    )
}

/// [`outranks`] for a user: besides their assignments, a superuser is outranked only by another
/// superuser (the flag is no assignment, yet it is every right).
pub async fn outranks_user(
    state: &AppState,
    principal: &Principal,
    target: &crate::records::user::User,
    theirs: &[Assignment],
) -> Result<(), AppError> {
    let caller_is_superuser =
        principal.user.is_superuser && principal.user.kind != crate::records::user::UserKind::Integration;
    if target.is_superuser && !caller_is_superuser {
        return Err(AppError::Denied {
            kind: "outranked",
            detail: "they are a superuser: only a superuser may do this to them".into(),
        });
    }
    outranks(state, principal, theirs).await
}

/// An integration gives API access no wider than its own: a role that grants API access must
/// keep to address ranges inside those of the caller's own API-granting roles (a caller with an
/// unrestricted one may give any). People are not bound by API settings, so this binds only
/// integration callers.
fn api_reach(
    principal: &Principal,
    mine: &[Role],
    given: &Role,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    use crate::records::role::ApiAccess;
    if principal.user.kind != crate::records::user::UserKind::Integration || given.api_access != ApiAccess::Grant {
        return Ok(());
    }
    let own: Vec<&Role> = principal
        .access
        .assignments
        .iter()
        .filter(|a| a.validity(now) == role::Validity::InEffect)
        .filter_map(|a| mine.iter().find(|r| r.id == a.role_id))
        .filter(|r| r.api_access == ApiAccess::Grant)
        .collect();
    if own.iter().any(|r| r.allowed_cidrs.is_empty()) {
        return Ok(());
    }
    let nets = |r: &Role| r.allowed_cidrs.iter().filter_map(|c| c.parse::<ipnet::IpNet>().ok()).collect::<Vec<_>>();
    let inside = !given.allowed_cidrs.is_empty()
        && nets(given).iter().all(|n| own.iter().any(|r| nets(r).iter().any(|m| m.contains(n))));
    if inside {
        Ok(())
    } else {
        Err(AppError::Denied {
            kind: "escalation",
            detail: "you cannot give API access from addresses outside your own allowed ranges".into(),
        })
    }
}

/// Whether the caller holds, over the scope of each assignment of another user that has not
/// expired (in effect or yet to start), every
/// permission that assignment gives: no one terminates, locks out, or takes over the credentials
/// of someone who holds more than they do (`403 outranked`). Superusers outrank everyone.
pub async fn outranks(state: &AppState, principal: &Principal, theirs: &[Assignment]) -> Result<(), AppError> {
    if principal.user.is_superuser && principal.user.kind != crate::records::user::UserKind::Integration {
        return Ok(());
    }
    let now = state.now();
    // What they will hold counts as much as what they hold: an assignment that starts tomorrow
    // is tomorrow's power (only expired ones are over).
    let in_effect: Vec<Assignment> =
        theirs.iter().filter(|a| a.validity(now) != role::Validity::Expired).cloned().collect();
    let store = state.store.as_ref();
    let (their_roles, _) = read_roles_and(store, &principal.org, &in_effect, vec![]).await?;
    let (my_roles, _) =
        roles_and(store, &principal.org, &principal.access.assignments, vec![], Some(&principal.roles)).await?;
    let subject = subject(principal, &my_roles);
    for a in &in_effect {
        let Some(role) = their_roles.iter().find(|r| r.id == a.role_id) else { continue };
        // Self-service permissions act only for their holder: they give no power over anyone,
        // so an organisation-wide Guard role does not put a guard above their site's manager.
        let power: Vec<&String> =
            role.permissions.iter().filter(|p| !catalogue::SELF_SERVICE.contains(&p.as_str())).collect();
        if power.is_empty() {
            continue;
        }
        let target = scope_target(store, &principal.org, &a.scope).await?;
        if let Some(missing) = power.into_iter().find(|p| !decision::decide(&subject, p, &target, now).allowed) {
            return Err(AppError::Denied {
                kind: "outranked",
                detail: format!("they hold {missing} over {}, which you do not hold there", a.scope),
            });
        }
    }
    Ok(())
}
