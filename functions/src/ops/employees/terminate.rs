//! `POST /v1/employees/{employee_id}/terminate`: the employee is terminated (nothing is
//! deleted). In one transaction: the status, the end of every session, and the Terminated role
//! over the organisation, which overrides every other assignment on the next request; and the
//! release of the employee's future shifts, listed in the answer (see `release`).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use guardpost_shared::access::{Permission, Resource, authorize, schema};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{AssignmentId, BoundedText, RoleId, UserId};
use guardpost_shared::http::{Body, Problem, idempotency, path_id};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::role::{self, Assignment, Scope};
use guardpost_shared::records::shift::{self, Shift};
use guardpost_shared::records::user::{self, UserStatus};
use guardpost_shared::records::{Tx, written_over};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::release;
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
    #[schema(value_type = schema::Reason)]
    pub reason: String,
}

/// The terminated employee, and the future shifts they were released from.
#[derive(Debug, Serialize, ToSchema)]
pub struct Termination {
    #[serde(flatten)]
    pub employee: EmployeeView,
    /// Their shifts that had not started: left on the sites' schedules, open.
    pub released_shifts: Vec<Shift>,
}

#[utoipa::path(post, path = "/v1/employees/{employee_id}/terminate", tag = "employees", security(("bearer" = [])), request_body = TerminateRequest,
    params(("employee_id" = String, Path)),
    responses((status = 200, body = Termination), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(employee_id): Path<String>,
    Body(req): Body<TerminateRequest>,
) -> AppResult<axum::response::Response> {
    let id = path_id(&employee_id, "employee", UserId::parse)?;
    authorize(&state, &principal, Permission::EMPLOYEES_TERMINATE, Resource::User(id)).await?;
    let reason = BoundedText::<1, 500>::parse(&req.reason).map_err(|e| AppError::invalid("reason", e.to_string()))?;
    let org = &principal.org;
    let store = state.store.as_ref();
    let now = state.now();
    let (current, access, shifts, schedule) = tokio::try_join!(
        user::load(store, org, &id),
        role::load_access(store, org, &id),
        release::future_shifts(store, org, &id, now),
        async { shift::schedule_version(store, org, &id).await.map_err(AppError::from) },
    )?;
    if current.record.kind != guardpost_shared::records::user::UserKind::Employee {
        return Err(AppError::NotFound("employee"));
    }
    if current.record.status == UserStatus::Terminated {
        // A termination whose release of shifts was cut short finishes it when repeated.
        if shifts.is_empty() {
            return Err(AppError::conflict("already-terminated", "this employee is already terminated"));
        }
        release::release_rest(store, org, &id, &shifts, schedule, now).await?;
        return Ok(Json(Termination {
            employee: EmployeeView::shown(&current.record, false),
            released_shifts: shifts,
        })
        .into_response());
    }
    if current.record.is_superuser {
        return Err(AppError::conflict("superuser", "clear the employee's superuser flag before terminating them"));
    }
    // No one terminates someone who holds more than they do.
    guardpost_shared::access::outranks(&state, &principal, &access.record.assignments).await?;
    let mut employee = current.record.clone();
    employee.status = UserStatus::Terminated;
    employee.end_sessions(now);
    employee.updated_at = now;
    let mut new_access = access.record.clone();
    let assignment_id = AssignmentId::from_ulid(state.new_ulid());
    let role_id = RoleId::default_role("terminated");
    let terminated = Assignment::new(assignment_id, role_id, Scope::Org, reason.into_inner(), now, principal.user.id);
    new_access.assignments.push(terminated.clone());
    new_access.sessions_valid_after = Some(now);
    let user_item = employee.item(org, current.version + 1)?;
    let (first, rest) = shifts.split_at(shifts.len().min(release::PER_TRANSACTION));
    let released: Vec<String> = shifts.iter().map(|s| s.id.to_string()).collect();
    let before = serde_json::json!({ "status": current.record.status });
    let after =
        serde_json::json!({ "status": UserStatus::Terminated, "assignment": terminated, "released_shifts": released });
    let change = Change::new("user.terminate", vec![id.to_string()], &before, &after)?;
    let mut tx = Tx::new();
    tx.push_plain(TxOp::put(user_item, Condition::VersionIs(current.version)));
    tx.push_plain(TxOp::put(new_access.item(org, &id, access.version + 1)?, written_over(access.version)));
    tx.push_plain(audit::record(org, &principal, state.new_ulid(), now, change)?);
    release::release_ops(org, &id, first, schedule, now)?.into_iter().for_each(|op| tx.push_plain(op));
    let rest = rest.to_vec();
    let answer = Json(Termination { employee: EmployeeView::shown(&employee, false), released_shifts: shifts });
    if rest.is_empty() {
        // The whole termination is one transaction: its answer is kept with it.
        return idempotency::commit(tx, store, answer).await;
    }
    // More future shifts than one transaction holds (rare): the rest, a transaction at a time;
    // if this is cut short, terminating again finishes it (so the answer is kept only after).
    tx.commit(store).await?;
    release::release_rest(store, org, &id, &rest, schedule + 1, now).await?;
    Ok(answer.into_response())
}
