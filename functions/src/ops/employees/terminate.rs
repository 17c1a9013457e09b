//! `POST /v1/employees/{employee_id}/terminate`: the employee is terminated (nothing is
//! deleted). In one transaction: the status, the end of every session, and the Terminated role
//! over the organisation, which overrides every other assignment on the next request.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{AssignmentId, BoundedText, RoleId, UserId};
use guardpost_shared::http::{Body, Problem, path_id};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::role::{self, Assignment, Scope};
use guardpost_shared::records::user::{self, UserStatus};
use guardpost_shared::records::written_over;
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::view::EmployeeView;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "terminate-employee",
    method: "POST",
    path: "/v1/employees/{employee_id}/terminate",
    access: Access::Requires(Permission::EMPLOYEES_TERMINATE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminateRequest {
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[utoipa::path(post, path = "/v1/employees/{employee_id}/terminate", tag = "employees", security(("bearer" = [])), request_body = TerminateRequest,
    params(("employee_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe retries: 1 to 255 visible ASCII characters", min_length = 1, max_length = 255, pattern = r"^[!-~]+$")),
    responses((status = 200, body = EmployeeView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(employee_id): Path<String>,
    Body(req): Body<TerminateRequest>,
) -> AppResult<Json<EmployeeView>> {
    let id = path_id(&employee_id, "employee", UserId::parse)?;
    authorize(&state, &principal, Permission::EMPLOYEES_TERMINATE, Resource::User(id)).await?;
    let reason = BoundedText::<1, 500>::parse(&req.reason).map_err(|e| AppError::invalid("reason", e.to_string()))?;
    let org = &principal.org;
    let current = user::load(state.store.as_ref(), org, &id).await?;
    if current.record.status == UserStatus::Terminated {
        return Err(AppError::conflict("already-terminated", "this employee is already terminated"));
    }
    if current.record.is_superuser {
        return Err(AppError::conflict("superuser", "clear the employee's superuser flag before terminating them"));
    }
    let access = role::load_access(state.store.as_ref(), org, &id).await?;
    // No one terminates someone who holds more than they do.
    guardpost_shared::access::outranks(&state, &principal, &access.record.assignments).await?;
    let now = state.now();
    let mut employee = current.record.clone();
    employee.status = UserStatus::Terminated;
    employee.sessions_valid_after = now;
    employee.updated_at = now;
    let mut new_access = access.record.clone();
    let assignment_id = AssignmentId::from_ulid(state.new_ulid());
    let role_id = RoleId::default_role("terminated");
    let terminated = Assignment::new(assignment_id, role_id, Scope::Org, reason.into_inner(), now, principal.user.id);
    new_access.assignments.push(terminated.clone());
    new_access.sessions_valid_after = Some(now);
    let user_item = employee.item(org, current.version + 1)?;
    let before = serde_json::json!({ "status": current.record.status });
    let after = serde_json::json!({ "status": UserStatus::Terminated, "assignment": terminated });
    let change = Change::new("user.terminate", vec![id.to_string()], &before, &after)?;
    state
        .store
        .transact(vec![
            TxOp::put(user_item, Condition::VersionIs(current.version)),
            TxOp::put(new_access.item(org, &id, access.version + 1)?, written_over(access.version)),
            audit::record(org, &principal, state.new_ulid(), now, change)?,
        ])
        .await?;
    Ok(Json(EmployeeView::shown(&employee, false)))
}
