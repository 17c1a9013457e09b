//! `GET /v1/users/{user_id}/role-assignments/{assignment_id}`.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{AssignmentId, UserId, schema};
use guardpost_shared::http::{Problem, path_id};
use guardpost_shared::records::role;
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AssignmentView;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "get-role-assignment",
    method: "GET",
    path: "/v1/users/{user_id}/role-assignments/{assignment_id}",
    access: Access::Requires(Permission::ROLES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/users/{user_id}/role-assignments/{assignment_id}", tag = "access", security(("bearer" = [])),
    params(("user_id" = inline(schema::Id), Path), ("assignment_id" = inline(schema::Id), Path)),
    responses((status = 200, body = AssignmentView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path((user_id, assignment_id)): Path<(String, String)>,
) -> AppResult<Json<AssignmentView>> {
    let user_id = path_id(&user_id, "user", UserId::parse)?;
    let assignment_id = path_id(&assignment_id, "assignment", AssignmentId::parse)?;
    authorize(&state, &principal, Permission::ROLES_VIEW, Resource::Organisation).await?;
    let access = role::load_access(state.store.as_ref(), &principal.org, &user_id).await?.record;
    let a = access.assignments.iter().find(|a| a.id == assignment_id).ok_or(AppError::NotFound("assignment"))?;
    Ok(Json(AssignmentView::new(user_id, a, state.now())))
}
