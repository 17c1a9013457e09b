//! `GET /v1/employees/{employee_id}`.

use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::UserId;
use guardpost_shared::http::{Problem, Tagged, path_id};
use guardpost_shared::records::user;
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::view::EmployeeView;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "get-employee",
    method: "GET",
    path: "/v1/employees/{employee_id}",
    access: Access::Requires(Permission::EMPLOYEES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/employees/{employee_id}", tag = "employees", security(("bearer" = [])),
    params(("employee_id" = String, Path, description = "The employee's user id")),
    responses((status = 200, body = EmployeeView, headers(("ETag" = String, description = "The version to send back in If-Match when changing the employee"))),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(employee_id): Path<String>,
) -> AppResult<Tagged<EmployeeView>> {
    let id = path_id(&employee_id, "employee", UserId::parse)?;
    // Reading oneself is self-service; anyone else needs employees:view over a site they work at.
    let permission = if id == principal.user.id { Permission::SELF_READ } else { Permission::EMPLOYEES_VIEW };
    let target = if id == principal.user.id { Resource::Organisation } else { Resource::User(id) };
    let granted = authorize(&state, &principal, permission, target).await?;
    let store = state.store.as_ref();
    let ids = [id];
    let (employee, logins) =
        tokio::try_join!(user::load(store, &principal.org, &id), user::last_logins(store, &principal.org, &ids))?;
    // One's own fields are one's own (as at /v1/me); anyone else's need employees:view-sensitive.
    let sensitive =
        id == principal.user.id || granted.also(&state, &principal, Permission::EMPLOYEES_VIEW_SENSITIVE).await?;
    let view = EmployeeView::shown(&employee.record, sensitive).with_last_login(logins.get(&id).copied());
    Ok(Tagged { version: employee.version, body: view })
}
