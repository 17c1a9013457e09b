//! `GET /v1/client-accesses/{client_access_id}/sub-sites`: TrackTik's "Sub-Sites" dialog: every
//! sub-site of the access's master site, and whether the client sees it.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::schema;
use guardpost_shared::http::Problem;
use guardpost_shared::{AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{SubSiteVisibility, locate, master_and_hidden};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "get-client-sub-sites",
    method: "GET",
    path: "/v1/client-accesses/{client_access_id}/sub-sites",
    access: Access::Requires(Permission::CLIENT_ACCESS_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubSites {
    /// Every sub-site of the master site (none for a plain site).
    pub items: Vec<SubSiteVisibility>,
}

#[utoipa::path(get, path = "/v1/client-accesses/{client_access_id}/sub-sites", tag = "client-access", security(("bearer" = [])),
    params(("client_access_id" = inline(schema::Id), Path)),
    responses((status = 200, body = SubSites), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<SubSites>> {
    let (record, granted) = locate(&state, &principal, &id, Permission::CLIENT_ACCESS_VIEW).await?;
    let (subs, _, hidden) = master_and_hidden(&state, &principal.org, &record.record, granted).await?;
    Ok(Json(SubSites { items: SubSiteVisibility::list(&subs, &hidden) }))
}
