//! `GET /v1/client/sites/{site_id}/on-site`: who is on one of the client's sites now
//! (`client-dashboard:view`, the live dashboard): the guards clocked in there, since when, and
//! whether they are on a break.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Duration, Utc};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::utc;
use guardpost_shared::domain::{SiteId, schema};
use guardpost_shared::http::{Problem, path_id};
use guardpost_shared::records::time_entry::TimeEntry;
use guardpost_shared::records::{keys, sort_time};
use guardpost_shared::store::{Query, read_all};
use guardpost_shared::{AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{PersonName, names};
use crate::ops::time::clock_in::MAX_SHIFT_HOURS;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-client-on-site",
    method: "GET",
    path: "/v1/client/sites/{site_id}/on-site",
    access: Access::Requires(Permission::CLIENT_DASHBOARD_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OnSite {
    pub items: Vec<OnSiteGuard>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OnSiteGuard {
    pub guard: Option<PersonName>,
    #[serde(with = "utc")]
    pub since: DateTime<Utc>,
    pub on_break: bool,
}

#[utoipa::path(get, path = "/v1/client/sites/{site_id}/on-site", tag = "client", security(("bearer" = [])),
    params(("site_id" = inline(schema::Id), Path)),
    responses((status = 200, body = OnSite), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
) -> AppResult<Json<OnSite>> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    authorize(&state, &principal, Permission::CLIENT_DASHBOARD_VIEW, Resource::Site(site_id)).await?;
    let now = state.now();
    // Nobody stays clocked in longer than the longest shift.
    let query = Query::gsi1(keys::site_time_entries(&principal.org, &site_id))
        .between(sort_time(now - Duration::hours(MAX_SHIFT_HOURS)), format!("{}~", sort_time(now)));
    let open: Vec<TimeEntry> = read_all(state.store.as_ref(), &query)
        .await?
        .iter()
        .map(|i| i.parse::<TimeEntry>())
        .filter(|e| e.as_ref().map_or(true, |e| e.clock_out.is_none()))
        .collect::<Result<_, _>>()?;
    let guards: Vec<_> = open.iter().map(|e| e.employee_id).collect();
    let names = names(state.store.as_ref(), &principal.org, &guards).await?;
    let items = open
        .iter()
        .map(|e| OnSiteGuard { guard: names.get(&e.employee_id).cloned(), since: e.clock_in, on_break: e.on_break() })
        .collect();
    Ok(Json(OnSite { items }))
}
