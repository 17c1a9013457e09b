//! `PUT /v1/users/{user_id}/notification-preferences`: a manager in scope sets a user's
//! notification preferences (`employees:modify` over an employee, `client-access:edit` over a
//! client's site). Topics left out keep their setting; account emails cannot be switched off.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::UserId;
use guardpost_shared::http::{Body, Problem, path_id};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::authorize_user;
use super::preferences::{NotificationPreferences, PreferencesChange, change};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "set-user-notification-preferences",
    method: "PUT",
    path: "/v1/users/{user_id}/notification-preferences",
    access: Access::Requires(Permission::EMPLOYEES_MODIFY),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(put, path = "/v1/users/{user_id}/notification-preferences", tag = "employees", security(("bearer" = [])),
    params(("user_id" = String, Path)), request_body = PreferencesChange,
    responses((status = 200, body = NotificationPreferences), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<String>,
    Body(req): Body<PreferencesChange>,
) -> AppResult<Json<NotificationPreferences>> {
    let id = path_id(&user_id, "user", UserId::parse)?;
    authorize_user(&state, &principal, &id, Permission::EMPLOYEES_MODIFY, Permission::CLIENT_ACCESS_EDIT, true).await?;
    Ok(Json(change(state.store.as_ref(), &principal.org, &id, &req).await?))
}
