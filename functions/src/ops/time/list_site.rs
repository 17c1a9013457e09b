//! `GET /v1/sites/{site_id}/time-entries?from=&to=`: who clocked in at a site in the window,
//! and who is still there (`clock_out` absent), for managers.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{OrgSlug, SiteId};
use guardpost_shared::http::{Paged, Params, Problem, path_id};
use guardpost_shared::records::time_entry::TimeEntry;
use guardpost_shared::records::{keys, sort_time};
use guardpost_shared::store::{Page, Query, read_page};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ops::range::RangeParams;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-site-time-entries",
    method: "GET",
    path: "/v1/sites/{site_id}/time-entries",
    access: Access::Requires(Permission::TIME_ENTRIES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/sites/{site_id}/time-entries", tag = "time", security(("bearer" = [])),
    params(("site_id" = String, Path), RangeParams),
    responses((status = 200, body = Paged<TimeEntry>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
    Params(range): Params<RangeParams>,
) -> AppResult<Json<Paged<TimeEntry>>> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    authorize(&state, &principal, Permission::TIME_ENTRIES_VIEW, Resource::Site(site_id)).await?;
    let (result, items) = site_entries(&state, &principal.org, &site_id, &range).await?;
    Ok(Json(Paged::from_page(&result, items)))
}

/// A page of the site's time entries clocked in within the window (default: the week to now).
pub(crate) async fn site_entries(
    state: &AppState,
    org: &OrgSlug,
    site_id: &SiteId,
    range: &RangeParams,
) -> AppResult<(Page, Vec<TimeEntry>)> {
    let (from, to) = range.window(state.now())?;
    let page = range.page();
    let query = Query::gsi1(keys::site_time_entries(org, site_id))
        .between(sort_time(from), format!("{}~", sort_time(to)))
        .limit(page.limit()?)
        .after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let items = result.items.iter().map(|i| i.parse::<TimeEntry>()).collect::<Result<Vec<_>, _>>()?;
    Ok((result, items))
}
