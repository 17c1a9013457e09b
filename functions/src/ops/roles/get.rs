//! `GET /v1/roles/{role_id}`.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::schema::RoleRef;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::RoleId;
use guardpost_shared::http::{Problem, path_id};
use guardpost_shared::records::role;
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::RoleView;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "get-role",
    method: "GET",
    path: "/v1/roles/{role_id}",
    access: Access::Requires(Permission::ROLES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/roles/{role_id}", tag = "access", security(("bearer" = [])),
    params(("role_id" = inline(RoleRef), Path, description = "A default role's id (e.g. `guard`) or a custom role's")),
    responses((status = 200, body = RoleView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(role_id): Path<String>,
) -> AppResult<Json<RoleView>> {
    let id = path_id(&role_id, "role", RoleId::parse)?;
    authorize(&state, &principal, Permission::ROLES_VIEW, Resource::Organisation).await?;
    let role = role::load(state.store.as_ref(), &principal.org, &id).await?;
    Ok(Json(RoleView::shown(&role.record, role.version, &principal)))
}
