//! `GET /v1/users/{user_id}/notification-preferences`: a user's notification preferences, for a
//! manager in scope (`employees:modify` over an employee, `client-access:edit` over a client's
//! site).

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::UserId;
use guardpost_shared::http::{Problem, path_id};
use guardpost_shared::records::preferences;
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::authorize_user;
use super::preferences::NotificationPreferences;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "get-user-notification-preferences",
    method: "GET",
    path: "/v1/users/{user_id}/notification-preferences",
    access: Access::Requires(Permission::EMPLOYEES_MODIFY),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/users/{user_id}/notification-preferences", tag = "employees", security(("bearer" = [])),
    params(("user_id" = String, Path)),
    responses((status = 200, body = NotificationPreferences), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<String>,
) -> AppResult<Json<NotificationPreferences>> {
    let id = path_id(&user_id, "user", UserId::parse)?;
    authorize_user(&state, &principal, &id, Permission::EMPLOYEES_MODIFY, Permission::CLIENT_ACCESS_EDIT, false)
        .await?;
    let found = preferences::load(state.store.as_ref(), &principal.org, &id).await?;
    Ok(Json(NotificationPreferences::from(&found.record)))
}
