//! `GET /v1/directory`: SecurityTrax's employee directory. What the caller sees follows their
//! own directory access level:
//! - `none`: nothing (`403 directory-access-none`);
//! - `everyone`: every active employee;
//! - `shared_locations`: the active employees assigned to a site the caller is assigned to;
//! - `hierarchy`: the caller's manager (one step up), their peers under that manager, and
//!   everyone below the caller, however deep.
//!
//! Each entry is a name, titles, the work email and the phone numbers not marked private: a
//! private number never appears here, whoever asks. Paged by user id.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::{Permission, authorize_self};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{OrgSlug, UserId};
use guardpost_shared::http::{PageParams, Paged, Params, Problem, page_in_memory};
use guardpost_shared::records::keys;
use guardpost_shared::records::user::{self, DirectoryAccess, SiteAssignment, User, UserKind, UserStatus};
use guardpost_shared::store::{Item, MAX_BATCH_GET, Query, Store, read_all, read_page};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-directory",
    method: "GET",
    path: "/v1/directory",
    access: Access::Requires(Permission::SELF_READ),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

/// The most people a hierarchy walk visits below the caller.
const MAX_BELOW: usize = 5000;

#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryEntry {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub job_title: Option<String>,
    /// The HR title with its designation ("VP of Sales").
    pub title: Option<String>,
    pub email: Option<String>,
    /// E.164 numbers not marked private.
    pub phones: Vec<String>,
}

impl From<&User> for DirectoryEntry {
    fn from(u: &User) -> Self {
        let title = match (&u.hr.title, &u.hr.title_designation) {
            (Some(t), Some(d)) => Some(format!("{t} {d}")),
            (Some(t), None) => Some(t.clone()),
            _ => None,
        };
        let phones = [&u.main_phone, &u.other_phone]
            .into_iter()
            .flatten()
            .filter(|p| !p.private)
            .map(|p| p.number.as_str().to_owned())
            .collect();
        Self {
            id: u.id.to_string(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            job_title: u.job_title.clone(),
            title,
            email: u.email.as_ref().map(|e| e.as_str().to_owned()),
            phones,
        }
    }
}

fn listed(u: &User) -> bool {
    u.kind == UserKind::Employee && u.status == UserStatus::Active
}

#[utoipa::path(get, path = "/v1/directory", tag = "employees", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Paged<DirectoryEntry>), (status = 403, description = "Directory access None", body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Params(page): Params<PageParams>,
) -> AppResult<Json<Paged<DirectoryEntry>>> {
    authorize_self(&state, &principal).await?;
    let store = state.store.as_ref();
    let org = &principal.org;
    let me = &principal.user;
    let ids = match me.directory_level() {
        DirectoryAccess::None => {
            return Err(AppError::Denied {
                kind: "directory-access-none",
                detail: "your directory access is None: ask an administrator".into(),
            });
        }
        DirectoryAccess::Everyone => {
            // The users partition is already in id order: the store pages it.
            let query = Query::table(keys::users(org)).limit(page.limit()?).after(page.cursor()?);
            let result = read_page(store, &query).await?;
            let users = result.items.iter().map(Item::parse::<User>).collect::<Result<Vec<_>, _>>()?;
            let items = users.iter().filter(|u| listed(u)).map(DirectoryEntry::from).collect();
            return Ok(Json(Paged::from_page(&result, items)));
        }
        DirectoryAccess::SharedLocations => colleagues(store, org, &me.id).await?,
        DirectoryAccess::Hierarchy => hierarchy(store, org, me).await?,
    };
    let users = read_users(store, org, &ids).await?;
    let sorted = users.iter().filter(|u| listed(u)).map(|u| (u.id.to_string(), DirectoryEntry::from(u))).collect();
    Ok(Json(page_in_memory(sorted, &page)?))
}

/// Everyone assigned to a site the user is assigned to (themselves included).
async fn colleagues(store: &dyn Store, org: &OrgSlug, me: &UserId) -> AppResult<BTreeSet<UserId>> {
    let mine = read_all(store, &Query::table(keys::user_items(org, me)).prefix(keys::SITE_ASSIGNMENT_PREFIX)).await?;
    let sites: Vec<_> =
        mine.iter().map(|i| i.parse::<SiteAssignment>().map(|a| a.site_id)).collect::<Result<_, _>>()?;
    let per_site = futures::future::try_join_all(
        sites.iter().map(|s| async move { read_all(store, &Query::gsi1(keys::site_employees(org, s))).await }),
    )
    .await?;
    let mut ids = BTreeSet::new();
    for item in per_site.iter().flatten() {
        ids.insert(item.parse::<SiteAssignment>()?.user_id);
    }
    Ok(ids)
}

/// The user's manager, the manager's other reports, and everyone below the user.
async fn hierarchy(store: &dyn Store, org: &OrgSlug, me: &User) -> AppResult<BTreeSet<UserId>> {
    let mut ids = BTreeSet::new();
    if let Some(manager) = me.hr.reports_to {
        ids.insert(manager);
        ids.extend(reports_of(store, org, &manager).await?);
    }
    let mut frontier = vec![me.id];
    let mut below = BTreeSet::new();
    while !frontier.is_empty() && below.len() < MAX_BELOW {
        let next = futures::future::try_join_all(frontier.iter().map(|m| reports_of(store, org, m))).await?;
        frontier = next.into_iter().flatten().filter(|id| *id != me.id && below.insert(*id)).collect();
    }
    ids.extend(below);
    ids.remove(&me.id);
    Ok(ids)
}

/// The people who report directly to `manager` (GSI1 of their user items).
async fn reports_of(store: &dyn Store, org: &OrgSlug, manager: &UserId) -> AppResult<Vec<UserId>> {
    let items = read_all(store, &Query::gsi1(keys::reports_to(org, manager))).await?;
    Ok(items
        .iter()
        .filter(|i| i.kind == user::KIND)
        .map(|i| i.parse::<User>().map(|u| u.id))
        .collect::<Result<_, _>>()?)
}

async fn read_users(store: &dyn Store, org: &OrgSlug, ids: &BTreeSet<UserId>) -> AppResult<Vec<User>> {
    let ids: Vec<_> = ids.iter().copied().collect();
    let mut users = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_BATCH_GET) {
        let wanted: Vec<_> = chunk.iter().map(|id| keys::user(org, id)).collect();
        for item in store.batch_get(&wanted).await? {
            if item.kind == user::KIND {
                users.push(item.parse::<User>()?);
            }
        }
    }
    users.sort_by_key(|u| u.id);
    Ok(users)
}
