//! `DELETE /v1/users/{user_id}/role-assignments/{assignment_id}`: takes effect on the user's
//! next request. Needs `role-assignments:manage` over the assignment's scope.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use guardpost_shared::access::{Permission, authorize_listing};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{AssignmentId, UserId, schema};
use guardpost_shared::http::{NoContent, Problem, path_id};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Planned, apply};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "delete-role-assignment",
    method: "DELETE",
    path: "/v1/users/{user_id}/role-assignments/{assignment_id}",
    access: Access::Requires(Permission::ROLE_ASSIGNMENTS_MANAGE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(delete, path = "/v1/users/{user_id}/role-assignments/{assignment_id}", tag = "access", security(("bearer" = [])),
    params(("user_id" = inline(schema::Id), Path), ("assignment_id" = inline(schema::Id), Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path((user_id, assignment_id)): Path<(String, String)>,
) -> AppResult<axum::response::Response> {
    let user_id = path_id(&user_id, "user", UserId::parse)?;
    let assignment_id = path_id(&assignment_id, "assignment", AssignmentId::parse)?;
    authorize_listing(&state, &principal, Permission::ROLE_ASSIGNMENTS_MANAGE).await?;
    let removal = vec![Planned::Remove { user_id, assignment_id }];
    apply(&state, &principal, removal, "assignment.delete", |_, f| f.to_owned(), |_| NoContent.into_response()).await
}
