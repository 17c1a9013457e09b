//! Role assignments: a user holds a role over a scope, optionally between two instants. All of a
//! user's assignments live in their access item; every change rewrites it against the version
//! read and records an audit entry in the same transaction, so changes apply on the user's next
//! request and none goes unrecorded.

pub mod bulk;
pub mod create;
pub mod delete;
pub mod get;
pub mod list;

use guardpost_shared::domain::utc;
use std::collections::BTreeMap;

use axum::response::Response;
use chrono::{DateTime, Utc};
use guardpost_shared::access::catalogue::Portal;
use guardpost_shared::access::schema::{Reason, RoleRef};
use guardpost_shared::access::{Grant, Permission, Resource, authorize, may_grant};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{AssignmentId, BoundedText, OrgSlug, RoleId, Timestamp, UserId};
use guardpost_shared::http::idempotency;
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::role::{self, Assignment, Role, Scope, UserAccess, Validity};
use guardpost_shared::records::user::{self, User, UserKind};
use guardpost_shared::records::{Versioned, keys, written_over};
use guardpost_shared::store::{Condition, Item, MAX_TRANSACT_OPS, Query, Store, TxOp, read_all};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    pub id: String,
    pub user_id: String,
    pub role_id: String,
    pub scope: Scope,
    #[serde(default, with = "utc::option")]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(default, with = "utc::option")]
    pub valid_until: Option<DateTime<Utc>>,
    pub validity: Validity,
    pub reason: String,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// For a client access over a master site: the sub-sites it does not cover.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hidden_sites: Vec<String>,
}

impl AssignmentView {
    pub fn new(user_id: UserId, a: &Assignment, now: DateTime<Utc>) -> Self {
        Self {
            id: a.id.to_string(),
            user_id: user_id.to_string(),
            role_id: a.role_id.to_string(),
            scope: a.scope.clone(),
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            validity: a.validity(now),
            reason: a.reason.clone(),
            created_at: a.created_at,
            created_by: a.created_by.to_string(),
            hidden_sites: a.hidden_sites.iter().map(ToString::to_string).collect(),
        }
    }
}

/// A new assignment as a client sends it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentInput {
    /// A default role's id (`guard`, `manager`, ...) or a custom role's.
    #[schema(value_type = RoleRef)]
    pub role_id: String,
    /// `{"type": "org"}`, `{"type": "region", "id": ...}` or `{"type": "site", "id": ...}`.
    pub scope: Scope,
    #[schema(value_type = Option<Timestamp>)]
    pub valid_from: Option<Timestamp>,
    /// The assignment stops by itself at this instant.
    #[schema(value_type = Option<Timestamp>)]
    pub valid_until: Option<Timestamp>,
    /// Why (kept with the assignment and in the audit trail).
    #[schema(value_type = Reason)]
    pub reason: String,
}

/// One change to make.
#[derive(Clone, Debug)]
pub enum Planned {
    Add { user_id: UserId, input: AssignmentInput },
    Remove { user_id: UserId, assignment_id: AssignmentId },
}

impl Planned {
    fn user_id(&self) -> UserId {
        match self {
            Self::Add { user_id, .. } | Self::Remove { user_id, .. } => *user_id,
        }
    }
}

/// What a set of changes did.
pub struct Applied {
    pub added: Vec<(UserId, Assignment)>,
    pub removed: Vec<(UserId, Assignment)>,
}

fn scope_resource(scope: &Scope) -> Resource {
    match scope {
        Scope::Org => Resource::Organisation,
        Scope::Region(id) => Resource::Region(*id),
        Scope::Site(id) => Resource::Site(*id),
    }
}

/// Checks and makes the changes in one transaction (all or nothing) with one audit entry.
/// `field` names the body field of change `i` in errors.
pub async fn apply(
    state: &AppState,
    principal: &Principal,
    changes: Vec<Planned>,
    action: &'static str,
    field: impl Fn(usize, &str) -> String,
    answer: impl FnOnce(&Applied) -> Response,
) -> AppResult<Response> {
    let org = &principal.org;
    let store = state.store.as_ref();
    let now = state.now();
    let mut users: BTreeMap<UserId, (Versioned<User>, Versioned<UserAccess>)> = BTreeMap::new();
    let mut terminating: Vec<UserId> = Vec::new();
    let mut roles: BTreeMap<RoleId, Role> = BTreeMap::new();
    let mut applied = Applied { added: Vec::new(), removed: Vec::new() };
    for (i, change) in changes.into_iter().enumerate() {
        let user_id = change.user_id();
        if let std::collections::btree_map::Entry::Vacant(slot) = users.entry(user_id) {
            let user = user::load(store, org, &user_id).await.map_err(|e| match e {
                AppError::NotFound(_) => AppError::NotFound("user"),
                other => other,
            })?;
            slot.insert((user, role::load_access(store, org, &user_id).await?));
        }
        match change {
            Planned::Add { input, .. } => {
                let role_id = RoleId::parse(&input.role_id)
                    .map_err(|_| AppError::invalid(&field(i, "role_id"), "no such role in this organisation"))?;
                if !roles.contains_key(&role_id) {
                    let role = role::load(store, org, &role_id)
                        .await
                        .map_err(|_| AppError::invalid(&field(i, "role_id"), "no such role in this organisation"))?;
                    roles.insert(role_id.clone(), role.record);
                }
                let role = &roles[&role_id];
                let (user, access) = users.get_mut(&user_id).ok_or(AppError::NotFound("user"))?;
                let assignment =
                    check_addition(state, principal, &user.record, &access.record, role, input, &field, i).await?;
                if role_id.as_str() == "terminated" {
                    access.record.sessions_valid_after = Some(now);
                    terminating.push(user_id);
                }
                access.record.assignments.push(assignment.clone());
                applied.added.push((user_id, assignment));
            }
            Planned::Remove { assignment_id, .. } => {
                let (_, access) = users.get_mut(&user_id).ok_or(AppError::NotFound("user"))?;
                let at = access
                    .record
                    .assignments
                    .iter()
                    .position(|a| a.id == assignment_id)
                    .ok_or(AppError::NotFound("assignment"))?;
                let scope = access.record.assignments[at].scope.clone();
                authorize(state, principal, Permission::ROLE_ASSIGNMENTS_MANAGE, scope_resource(&scope)).await?;
                // Taking a role away needs what giving it needs: to hold what it gives (no
                // demoting someone stronger), and for the Terminated role, the right to
                // terminate this employee (no un-terminating by the back door).
                let taken = access.record.assignments[at].clone();
                if taken.role_id.as_str() == "terminated" {
                    authorize(state, principal, Permission::EMPLOYEES_TERMINATE, Resource::User(user_id)).await?;
                    // What the user gets back must be no more than the caller holds.
                    let rest: Vec<_> = access
                        .record
                        .assignments
                        .iter()
                        .filter(|a| a.role_id.as_str() != "terminated")
                        .cloned()
                        .collect();
                    guardpost_shared::access::outranks(state, principal, &rest).await?;
                }
                guardpost_shared::access::outranks(state, principal, std::slice::from_ref(&taken)).await?;
                applied.removed.push((user_id, access.record.assignments.remove(at)));
            }
        }
    }
    if users.len() + terminating.len() + 1 > MAX_TRANSACT_OPS {
        return Err(AppError::invalid("changes", "too many users for one all-or-nothing batch; split it"));
    }
    let mut ops = Vec::with_capacity(users.len() + terminating.len() + 1);
    for (user_id, (user, access)) in &users {
        ops.push(TxOp::put(access.record.item(org, user_id, access.version + 1)?, written_over(access.version)));
        if terminating.contains(user_id) {
            // Not made a superuser meanwhile (a terminated superuser would still count as one).
            ops.push(TxOp::Check { key: keys::user(org, user_id), condition: Condition::VersionIs(user.version) });
        }
    }
    let subjects = users.keys().map(ToString::to_string).collect();
    let change = Change::new(action, subjects, &applied.removed_json(), &applied.added_json())?;
    ops.push(audit::record(org, principal, state.new_ulid(), now, change)?);
    Ok(idempotency::transact(store, ops, answer(&applied)).await?)
}

impl Applied {
    fn added_json(&self) -> Vec<serde_json::Value> {
        self.added.iter().map(|(u, a)| serde_json::json!({ "user_id": u, "assignment": a })).collect()
    }
    fn removed_json(&self) -> Vec<serde_json::Value> {
        self.removed.iter().map(|(u, a)| serde_json::json!({ "user_id": u, "assignment": a })).collect()
    }
}

#[allow(clippy::too_many_arguments)]
async fn check_addition(
    state: &AppState,
    principal: &Principal,
    user: &User,
    access: &UserAccess,
    role: &Role,
    input: AssignmentInput,
    field: &impl Fn(usize, &str) -> String,
    i: usize,
) -> AppResult<Assignment> {
    let now = state.now();
    let reason = BoundedText::<1, 500>::parse(&input.reason)
        .map_err(|e| AppError::invalid(&field(i, "reason"), e.to_string()))?;
    let (valid_from, valid_until) = (input.valid_from.map(Timestamp::get), input.valid_until.map(Timestamp::get));
    if let (Some(from), Some(until)) = (valid_from, valid_until)
        && until <= from
    {
        return Err(AppError::invalid(&field(i, "valid_until"), "must be after valid_from"));
    }
    if valid_until.is_some_and(|until| until <= now) {
        return Err(AppError::invalid(&field(i, "valid_until"), "must be in the future"));
    }
    let client_user = user.kind == UserKind::Client;
    if client_user != (role.portal == Portal::Client) {
        return Err(AppError::invalid(
            &field(i, "role_id"),
            "client users hold client portal roles only, and only they hold them",
        ));
    }
    if role.id.as_str() == "terminated" {
        // Terminating is terminating: over the whole organisation, by someone allowed to
        // terminate this employee, who holds at least what the employee holds.
        if input.scope != Scope::Org {
            return Err(AppError::invalid(&field(i, "scope"), "the Terminated role is given over the organisation"));
        }
        if user.is_superuser {
            return Err(AppError::conflict("superuser", "clear the user's superuser flag before terminating them"));
        }
        authorize(state, principal, Permission::EMPLOYEES_TERMINATE, Resource::User(user.id)).await?;
        guardpost_shared::access::outranks(state, principal, &access.assignments).await?;
    }
    if access.assignments.len() >= UserAccess::MAX_ASSIGNMENTS {
        return Err(AppError::conflict("too-many-assignments", "a user holds at most 100 assignments"));
    }
    if access
        .assignments
        .iter()
        .any(|a| a.role_id == role.id && a.scope == input.scope && a.validity(now) != Validity::Expired)
    {
        return Err(AppError::conflict("assignment-exists", "the user already holds this role over this scope"));
    }
    let grant = Grant { grantee: &user.id, role, scope: &input.scope, valid_until };
    may_grant(state, principal, grant).await.map_err(|e| match e {
        AppError::NotFound(what) => AppError::invalid(&field(i, "scope"), format!("no such {what}")),
        other => other,
    })?;
    Ok(Assignment {
        id: AssignmentId::from_ulid(state.new_ulid()),
        role_id: role.id.clone(),
        scope: input.scope,
        valid_from,
        valid_until,
        reason: reason.into_inner(),
        created_at: now,
        created_by: principal.user.id,
        hidden_sites: Vec::new(),
    })
}

/// Every assignment naming the role, read from the base table.
pub async fn holders(store: &dyn Store, org: &OrgSlug, role_id: &RoleId) -> AppResult<Vec<(UserId, Assignment)>> {
    naming(&read_all(store, &Query::table(keys::access(org))).await?, role_id)
}

/// The assignments in these access items that name the role, with their users.
pub fn naming(items: &[Item], role_id: &RoleId) -> AppResult<Vec<(UserId, Assignment)>> {
    let mut out = Vec::new();
    for it in items.iter().filter(|i| i.kind == role::ACCESS_KIND) {
        let access: UserAccess = it.parse()?;
        let Some(user_id) = access.user_id else { continue };
        out.extend(access.assignments.into_iter().filter(|a| &a.role_id == role_id).map(|a| (user_id, a)));
    }
    Ok(out)
}
