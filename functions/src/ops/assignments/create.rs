//! `POST /v1/users/{user_id}/role-assignments`: give a user a role over a scope. The caller
//! needs `role-assignments:manage` over the scope and every permission of the role there.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{UserId, schema};
use guardpost_shared::http::{Body, Created, Problem, path_id};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Applied, AssignmentInput, AssignmentView, Planned, apply};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "create-role-assignment",
    method: "POST",
    path: "/v1/users/{user_id}/role-assignments",
    access: Access::Requires(Permission::ROLE_ASSIGNMENTS_MANAGE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(post, path = "/v1/users/{user_id}/role-assignments", tag = "access", security(("bearer" = [])),
    request_body = AssignmentInput,
    params(("user_id" = inline(schema::Id), Path)),
    responses((status = 201, body = AssignmentView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<String>,
    Body(input): Body<AssignmentInput>,
) -> AppResult<Response> {
    let user_id = path_id(&user_id, "user", UserId::parse)?;
    // Somewhere first (a caller with no such right learns nothing of the user); the scope is
    // checked with the role in `apply`.
    guardpost_shared::access::authorize_listing(&state, &principal, Permission::ROLE_ASSIGNMENTS_MANAGE).await?;
    let now = state.now();
    let added = |applied: &Applied| match applied.added.first() {
        Some((user, assignment)) => Created(AssignmentView::new(*user, assignment, now)).into_response(),
        None => AppError::NotFound("assignment").into_response(),
    };
    apply(&state, &principal, vec![Planned::Add { user_id, input }], "assignment.create", |_, f| f.to_owned(), added)
        .await
}
