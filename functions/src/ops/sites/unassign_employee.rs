//! `DELETE /v1/sites/{site_id}/employees/{employee_id}`: end an assignment.

use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{SiteId, UserId};
use guardpost_shared::http::{NoContent, Problem, path_id};
use guardpost_shared::records::keys;
use guardpost_shared::store::{Condition, StoreError};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "unassign-site-employee",
    method: "DELETE",
    path: "/v1/sites/{site_id}/employees/{employee_id}",
    access: Access::Requires(Permission::SITE_EMPLOYEES_ASSIGN),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(delete, path = "/v1/sites/{site_id}/employees/{employee_id}", tag = "sites", security(("bearer" = [])),
    params(("site_id" = String, Path), ("employee_id" = String, Path)),
    responses((status = 204, description = "Unassigned"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path((site_id, employee_id)): Path<(String, String)>,
) -> AppResult<NoContent> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    let user_id = path_id(&employee_id, "employee", UserId::parse)?;
    authorize(&state, &principal, Permission::SITE_EMPLOYEES_ASSIGN, Resource::Site(site_id)).await?;
    match state.store.delete(&keys::site_assignment(&principal.org, &user_id, &site_id), Condition::Exists).await {
        Ok(()) => Ok(NoContent),
        Err(StoreError::ConditionFailed) => Err(AppError::NotFound("assignment")),
        Err(e) => Err(e.into()),
    }
}
