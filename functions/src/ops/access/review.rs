//! `GET /v1/access/review`: the quarterly access review TrackTik asks administrators to do by
//! hand. Per user: their roles and scopes with expiry, when each assignment last allowed
//! something, their last login, and flags: `integration-with-sensitive-permissions`,
//! `unused-90-days` (an assignment older than 90 days that has not allowed anything in 90),
//! `multiple-roles` and `superuser`. Paged over users.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::future::try_join_all;
use guardpost_shared::access::usage::{self, Usage};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::utc;
use guardpost_shared::domain::{OrgSlug, UserId};
use guardpost_shared::http::{PageParams, Paged, Params, Problem};
use guardpost_shared::records::keys;
use guardpost_shared::records::role::{self, Role, UserAccess, Validity};
use guardpost_shared::records::user::{self, User, UserKind, UserStatus};
use guardpost_shared::store::{Query, Store, read_all, read_page};
use guardpost_shared::{AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ops::assignments::AssignmentView;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "review-access",
    method: "GET",
    path: "/v1/access/review",
    access: Access::Requires(Permission::ACCESS_REVIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

/// Permissions an integration should rarely hold (TrackTik: keep pay rates and the like away
/// from integrations; never reuse an admin account).
pub const SENSITIVE: &[&str] = &[
    "employees:view-sensitive",
    "roles:manage",
    "role-assignments:manage",
    "integrations:manage",
    "audit:view",
    "access:review",
];

pub const UNUSED_DAYS: i64 = 90;

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewedAssignment {
    #[serde(flatten)]
    pub assignment: AssignmentView,
    pub role_name: Option<String>,
    pub last_used_on: Option<NaiveDate>,
    pub unused_90_days: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewedUser {
    pub user_id: String,
    pub name: String,
    pub kind: UserKind,
    pub status: UserStatus,
    pub is_superuser: bool,
    #[serde(default, with = "utc::option")]
    pub last_login_at: Option<DateTime<Utc>>,
    pub assignments: Vec<ReviewedAssignment>,
    /// `integration-with-sensitive-permissions`, `unused-90-days`, `multiple-roles`, `superuser`.
    pub flags: Vec<&'static str>,
}

#[utoipa::path(get, path = "/v1/access/review", tag = "access", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Paged<ReviewedUser>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Params(page): Params<PageParams>,
) -> AppResult<Json<Paged<ReviewedUser>>> {
    authorize(&state, &principal, Permission::ACCESS_REVIEW, Resource::Organisation).await?;
    let store = state.store.as_ref();
    let org = &principal.org;
    let query = Query::table(keys::users(org)).limit(page.limit()?.min(100)).after(page.cursor()?);
    let result = read_page(store, &query).await?;
    let users: Vec<User> =
        result.items.iter().filter(|i| i.kind == user::KIND).map(|i| i.parse()).collect::<Result<_, _>>()?;
    let ids: Vec<_> = users.iter().map(|u| u.id).collect();
    let (roles, logins) = tokio::try_join!(all_roles(store, org), user::last_logins(store, org, &ids))?;
    let now = state.now();
    let reviewed =
        try_join_all(users.iter().map(|u| review(store, org, u, &roles, logins.get(&u.id).copied(), now))).await?;
    Ok(Json(Paged::from_page(&result, reviewed)))
}

async fn all_roles(store: &dyn Store, org: &OrgSlug) -> AppResult<Vec<Role>> {
    let items = read_all(store, &Query::table(keys::roles(org))).await?;
    Ok(items.iter().filter(|i| i.kind == role::KIND).map(|i| i.parse()).collect::<Result<_, _>>()?)
}

/// The notes of the user's assignments' use: in their own partition, and where versions before
/// 2026-12-08 wrote them (the user's partition); the later day of the two counts.
async fn usages(store: &dyn Store, org: &OrgSlug, user: &UserId) -> AppResult<Vec<Usage>> {
    let now = Query::table(keys::usage_items(org, user)).limit(200);
    let before = Query::table(keys::user_items(org, user)).prefix(keys::LEGACY_USAGE_PREFIX).limit(200);
    let (now, before) = tokio::try_join!(read_page(store, &now), read_page(store, &before))?;
    let mut latest: std::collections::BTreeMap<_, Usage> = std::collections::BTreeMap::new();
    for item in now.items.iter().chain(&before.items).filter(|i| i.kind == usage::KIND) {
        let usage: Usage = item.parse()?;
        match latest.get(&usage.assignment_id) {
            Some(kept) if kept.last_used_on >= usage.last_used_on => {}
            _ => {
                latest.insert(usage.assignment_id, usage);
            }
        }
    }
    Ok(latest.into_values().collect())
}

async fn review(
    store: &dyn Store,
    org: &OrgSlug,
    user: &User,
    roles: &[Role],
    login: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<ReviewedUser> {
    let (access, used) = tokio::try_join!(
        async { Ok::<_, guardpost_shared::AppError>(role::load_access(store, org, &user.id).await?.record) },
        usages(store, org, &user.id),
    )?;
    Ok(assess(user, &access, roles, login, &used, now))
}

/// The review of one user, from what was read (pure, so the flags are easy to test).
pub fn assess(
    user: &User,
    access: &UserAccess,
    roles: &[Role],
    last_login_at: Option<DateTime<Utc>>,
    used: &[Usage],
    now: DateTime<Utc>,
) -> ReviewedUser {
    let role = |id: &guardpost_shared::domain::RoleId| roles.iter().find(|r| &r.id == id);
    let cutoff = now - Duration::days(UNUSED_DAYS);
    let mut flags = Vec::new();
    let mut assignments = Vec::new();
    let mut in_effect_roles = Vec::new();
    let mut sensitive = false;
    let mut unused_any = false;
    for a in &access.assignments {
        let last_used_on = used.iter().find(|u| u.assignment_id == a.id).map(|u| u.last_used_on);
        let in_effect = a.validity(now) == Validity::InEffect;
        let unused = in_effect && a.created_at < cutoff && last_used_on.is_none_or(|d| d < cutoff.date_naive());
        if in_effect {
            if !in_effect_roles.contains(&a.role_id) {
                in_effect_roles.push(a.role_id.clone());
            }
            sensitive |= role(&a.role_id).is_some_and(|r| SENSITIVE.iter().any(|p| r.grants(p)));
        }
        unused_any |= unused;
        assignments.push(ReviewedAssignment {
            assignment: AssignmentView::new(user.id, a, now),
            role_name: role(&a.role_id).map(|r| r.name.clone()),
            last_used_on,
            unused_90_days: unused,
        });
    }
    if user.kind == UserKind::Integration && sensitive {
        flags.push("integration-with-sensitive-permissions");
    }
    if unused_any {
        flags.push("unused-90-days");
    }
    if in_effect_roles.len() > 1 {
        flags.push("multiple-roles");
    }
    if user.is_superuser {
        flags.push("superuser");
    }
    ReviewedUser {
        user_id: user.id.to_string(),
        name: user.full_name(),
        kind: user.kind,
        status: user.status,
        is_superuser: user.is_superuser,
        last_login_at,
        assignments,
        flags,
    }
}
