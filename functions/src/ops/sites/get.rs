//! `GET /v1/sites/{site_id}`.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::SiteId;
use guardpost_shared::http::{Problem, path_id};
use guardpost_shared::records::site::Site;
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "get-site",
    method: "GET",
    path: "/v1/sites/{site_id}",
    access: Access::Requires(Permission::SITES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/sites/{site_id}", tag = "sites", security(("bearer" = [])),
    params(("site_id" = String, Path)),
    responses((status = 200, body = Site), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
) -> AppResult<Json<Site>> {
    let id = path_id(&site_id, "site", SiteId::parse)?;
    // The decision reads the site first, so another organisation's id answers 404 whatever the
    // caller's rights; the site it read is the answer.
    let granted = authorize(&state, &principal, Permission::SITES_VIEW, Resource::Site(id)).await?;
    let site = granted.into_site().ok_or(guardpost_shared::AppError::NotFound("site"))?;
    Ok(Json(site.record))
}
