//! `POST /v1/employees/{employee_id}/reactivate` {reason}: undoes a termination. The Terminated
//! assignments are removed and the employee is active again, in one version-checked transaction
//! with its audit entry (the trail shows the termination and the reactivation). Sessions ended at
//! termination stay ended (the user's session epoch moves on): the employee logs in again. Released shifts stay released. The caller
//! needs `employees:terminate` over the employee and must hold what the employee holds.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize, outranks_user, schema};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{BoundedText, UserId};
use guardpost_shared::http::{Body, Problem, idempotency, path_id};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::user::{self, UserKind, UserStatus};
use guardpost_shared::records::{Tx, role, written_over};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::view::EmployeeView;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "reactivate-employee",
    method: "POST",
    path: "/v1/employees/{employee_id}/reactivate",
    access: Access::Requires(Permission::EMPLOYEES_TERMINATE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactivateRequest {
    #[schema(value_type = schema::Reason)]
    pub reason: String,
}

#[utoipa::path(post, path = "/v1/employees/{employee_id}/reactivate", tag = "employees", security(("bearer" = [])),
    request_body = ReactivateRequest,
    params(("employee_id" = String, Path)),
    responses((status = 200, body = EmployeeView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Not terminated", body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(employee_id): Path<String>,
    Body(req): Body<ReactivateRequest>,
) -> AppResult<axum::response::Response> {
    let id = path_id(&employee_id, "employee", UserId::parse)?;
    authorize(&state, &principal, Permission::EMPLOYEES_TERMINATE, Resource::User(id)).await?;
    let reason = BoundedText::<1, 500>::parse(&req.reason).map_err(|e| AppError::invalid("reason", e.to_string()))?;
    let store = state.store.as_ref();
    let org = &principal.org;
    let (current, access) = tokio::try_join!(user::load(store, org, &id), role::load_access(store, org, &id))?;
    if current.record.kind != UserKind::Employee {
        return Err(AppError::NotFound("employee"));
    }
    let is_terminated = |a: &role::Assignment| a.role_id.as_str() == "terminated";
    let removed: Vec<_> = access.record.assignments.iter().filter(|a| is_terminated(a)).cloned().collect();
    if current.record.status != UserStatus::Terminated && removed.is_empty() {
        return Err(AppError::conflict("not-terminated", "this employee is not terminated"));
    }
    let mut next_access = access.record.clone();
    next_access.assignments.retain(|a| !is_terminated(a));
    // Sessions from before stay ended through the user's session epoch (moved on below), so the
    // access item's cut-off, which would also end sessions started in this very instant, goes.
    next_access.sessions_valid_after = None;
    // What they get back must be no more than the caller holds.
    outranks_user(&state, &principal, &current.record, &next_access.assignments).await?;
    let now = state.now();
    let mut employee = current.record.clone();
    employee.status = UserStatus::Active;
    employee.end_sessions(now);
    employee.updated_at = now;
    let before = serde_json::json!({ "status": current.record.status, "removed": removed });
    let after = serde_json::json!({ "status": UserStatus::Active, "reason": reason.as_str() });
    let change = Change::new("user.reactivate", vec![id.to_string()], &before, &after)?;
    let mut tx = Tx::new();
    tx.push_plain(TxOp::put(employee.item(org, current.version + 1)?, Condition::VersionIs(current.version)));
    tx.push_plain(TxOp::put(next_access.item(org, &id, access.version + 1)?, written_over(access.version)));
    tx.push_plain(audit::record(org, &principal, state.new_ulid(), now, change)?);
    let answer = idempotency::commit(tx, store, Json(EmployeeView::shown(&employee, false))).await?;
    tracing::info!(employee = %id, by = %principal.user.id, "employee reactivated");
    Ok(answer)
}
