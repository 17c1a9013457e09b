//! `GET /v1/client/sites/{site_id}/timesheets?from=&to=`: who worked at one of the client's sites
//! and when (`client-timesheets:view`): clock-in, clock-out, breaks, minutes worked, and whether
//! the client approved the entry.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::utc;
use guardpost_shared::domain::{SiteId, schema};
use guardpost_shared::http::{Paged, Params, Problem, path_id};
use guardpost_shared::records::time_entry::{Break, TimeEntry};
use guardpost_shared::{AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{PersonName, names};
use crate::ops::range::RangeParams;
use crate::ops::time::list_site::site_entries;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-client-timesheets",
    method: "GET",
    path: "/v1/client/sites/{site_id}/timesheets",
    access: Access::Requires(Permission::CLIENT_TIMESHEETS_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientTimeEntry {
    pub id: String,
    pub guard: Option<PersonName>,
    #[serde(with = "utc")]
    pub clock_in: DateTime<Utc>,
    /// Absent while the guard is on site.
    #[serde(default, with = "utc::option")]
    pub clock_out: Option<DateTime<Utc>>,
    pub breaks: Vec<Break>,
    /// Time on site less breaks, for a closed entry.
    pub worked_minutes: Option<i64>,
    #[serde(default, with = "utc::option")]
    pub approved_at: Option<DateTime<Utc>>,
}

impl ClientTimeEntry {
    pub fn new(e: &TimeEntry, guard: Option<PersonName>) -> Self {
        let worked_minutes = e.clock_out.map(|out| {
            let breaks: i64 = e.breaks.iter().map(|b| (b.end.unwrap_or(out) - b.start).num_minutes()).sum();
            (out - e.clock_in).num_minutes() - breaks
        });
        Self {
            id: e.id.to_string(),
            guard,
            clock_in: e.clock_in,
            clock_out: e.clock_out,
            breaks: e.breaks.clone(),
            worked_minutes,
            approved_at: e.approval.as_ref().map(|a| a.at),
        }
    }
}

#[utoipa::path(get, path = "/v1/client/sites/{site_id}/timesheets", tag = "client", security(("bearer" = [])),
    params(("site_id" = inline(schema::Id), Path), RangeParams),
    responses((status = 200, body = Paged<ClientTimeEntry>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
    Params(range): Params<RangeParams>,
) -> AppResult<Json<Paged<ClientTimeEntry>>> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    authorize(&state, &principal, Permission::CLIENT_TIMESHEETS_VIEW, Resource::Site(site_id)).await?;
    let (result, entries) = site_entries(&state, &principal.org, &site_id, &range).await?;
    let guards: Vec<_> = entries.iter().map(|e| e.employee_id).collect();
    let names = names(state.store.as_ref(), &principal.org, &guards).await?;
    let items = entries.iter().map(|e| ClientTimeEntry::new(e, names.get(&e.employee_id).cloned())).collect();
    Ok(Json(Paged::from_page(&result, items)))
}
