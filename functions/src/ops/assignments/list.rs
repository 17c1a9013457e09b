//! `GET /v1/users/{user_id}/role-assignments`: a user's assignments, in effect or not.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{UserId, schema};
use guardpost_shared::http::{Problem, path_id};
use guardpost_shared::records::{role, user};
use guardpost_shared::{AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AssignmentView;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-user-role-assignments",
    method: "GET",
    path: "/v1/users/{user_id}/role-assignments",
    access: Access::Requires(Permission::ROLES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Assignments {
    pub items: Vec<AssignmentView>,
}

#[utoipa::path(get, path = "/v1/users/{user_id}/role-assignments", tag = "access", security(("bearer" = [])),
    params(("user_id" = inline(schema::Id), Path)),
    responses((status = 200, body = Assignments), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<String>,
) -> AppResult<Json<Assignments>> {
    let user_id = path_id(&user_id, "user", UserId::parse)?;
    authorize(&state, &principal, Permission::ROLES_VIEW, Resource::Organisation).await?;
    user::load(state.store.as_ref(), &principal.org, &user_id).await?;
    let access = role::load_access(state.store.as_ref(), &principal.org, &user_id).await?.record;
    let now = state.now();
    Ok(Json(Assignments { items: access.assignments.iter().map(|a| AssignmentView::new(user_id, a, now)).collect() }))
}
