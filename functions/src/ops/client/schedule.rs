//! `GET /v1/client/sites/{site_id}/schedule?from=&to=`: the roster of one of the client's sites
//! (`client-schedule:view`): each shift's time, position and guard.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::utc;
use guardpost_shared::domain::{SiteId, schema};
use guardpost_shared::http::{Paged, Params, Problem, path_id};
use guardpost_shared::records::shift::ShiftKind;
use guardpost_shared::{AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{PersonName, names};
use crate::ops::range::RangeParams;
use crate::ops::shifts::list_site::site_shifts;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-client-schedule",
    method: "GET",
    path: "/v1/client/sites/{site_id}/schedule",
    access: Access::Requires(Permission::CLIENT_SCHEDULE_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientShift {
    pub id: String,
    #[serde(with = "utc")]
    pub start: DateTime<Utc>,
    #[serde(with = "utc")]
    pub end: DateTime<Utc>,
    pub position: Option<String>,
    /// Unplanned: made by a guard clocking in unscheduled.
    pub unplanned: bool,
    /// The guard on the shift (none for an open shift).
    pub guard: Option<PersonName>,
}

#[utoipa::path(get, path = "/v1/client/sites/{site_id}/schedule", tag = "client", security(("bearer" = [])),
    params(("site_id" = inline(schema::Id), Path), RangeParams),
    responses((status = 200, body = Paged<ClientShift>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
    Params(range): Params<RangeParams>,
) -> AppResult<Json<Paged<ClientShift>>> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    authorize(&state, &principal, Permission::CLIENT_SCHEDULE_VIEW, Resource::Site(site_id)).await?;
    let (result, shifts) = site_shifts(&state, &principal.org, &site_id, &range).await?;
    let guards: Vec<_> = shifts.iter().map(|s| s.employee_id).collect();
    let names = names(state.store.as_ref(), &principal.org, &guards).await?;
    let items = shifts
        .into_iter()
        .map(|s| ClientShift {
            id: s.id.to_string(),
            start: s.start,
            end: s.end,
            position: s.position,
            unplanned: s.kind == ShiftKind::Unplanned,
            guard: if s.released_at.is_some() { None } else { names.get(&s.employee_id).cloned() },
        })
        .collect();
    Ok(Json(Paged::from_page(&result, items)))
}
