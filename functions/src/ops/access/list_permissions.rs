//! `GET /v1/permissions`: the permission catalogue, for shaping roles.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::catalogue::{CATALOGUE, PermissionInfo};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::http::Problem;
use guardpost_shared::{AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-permissions",
    method: "GET",
    path: "/v1/permissions",
    access: Access::Requires(Permission::ROLES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Catalogue {
    pub items: &'static [PermissionInfo],
}

#[utoipa::path(get, path = "/v1/permissions", tag = "access", security(("bearer" = [])),
    responses((status = 200, body = Catalogue), (status = 403, body = Problem)))]
pub async fn handler(State(state): State<AppState>, principal: Principal) -> AppResult<Json<Catalogue>> {
    authorize(&state, &principal, Permission::ROLES_VIEW, Resource::Organisation).await?;
    Ok(Json(Catalogue { items: CATALOGUE }))
}
