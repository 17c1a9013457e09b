//! `GET /v1/sites/{site_id}/shifts?from=&to=`: the site's shifts that overlap the window.

use axum::Json;
use axum::extract::{Path, State};
use chrono::Duration;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{OrgSlug, SiteId};
use guardpost_shared::http::{Paged, Params, Problem, path_id};
use guardpost_shared::records::shift::{self, Shift};
use guardpost_shared::records::{keys, sort_time};
use guardpost_shared::store::{Page, Query, read_page};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ops::range::RangeParams;
use crate::ops::time::clock_in::MAX_SHIFT_HOURS;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-site-shifts",
    method: "GET",
    path: "/v1/sites/{site_id}/shifts",
    access: Access::Requires(Permission::SHIFTS_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/sites/{site_id}/shifts", tag = "shifts", security(("bearer" = [])),
    params(("site_id" = String, Path), RangeParams),
    responses((status = 200, body = Paged<Shift>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
    Params(range): Params<RangeParams>,
) -> AppResult<Json<Paged<Shift>>> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    authorize(&state, &principal, Permission::SHIFTS_VIEW, Resource::Site(site_id)).await?;
    let (result, items) = site_shifts(&state, &principal.org, &site_id, &range).await?;
    Ok(Json(Paged::from_page(&result, items)))
}

/// A page of the site's shifts that overlap the window (default: the week around now).
pub(crate) async fn site_shifts(
    state: &AppState,
    org: &OrgSlug,
    site_id: &SiteId,
    range: &RangeParams,
) -> AppResult<(Page, Vec<Shift>)> {
    let (from, to) = range.window(state.now() + Duration::days(7))?;
    let page = range.page();
    let query = Query::table(keys::site_shifts(org, site_id))
        .between(sort_time(from - Duration::hours(MAX_SHIFT_HOURS)), format!("{}~", sort_time(to)))
        .limit(page.limit()?)
        .after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let items = shift::parse_all(&result.items)?.into_iter().filter(|s| s.end > from).collect();
    Ok((result, items))
}
