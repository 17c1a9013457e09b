//! `PUT /v1/sites/{site_id}/employees/{employee_id}`: assign an employee to a site. Repeating it
//! changes nothing. The caller needs `site-employees:assign` over the site and `employees:view`
//! over the employee (client and integration users are never assigned). The site and the employee are checked in the same transaction that writes
//! the assignment, so no assignment can point at something that is not there.

use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{SiteId, UserId};
use guardpost_shared::http::{NoContent, Problem, path_id};
use guardpost_shared::records::user::{self, SiteAssignment, UserKind};
use guardpost_shared::records::{item, keys};
use guardpost_shared::store::{Condition, StoreError, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "assign-site-employee",
    method: "PUT",
    path: "/v1/sites/{site_id}/employees/{employee_id}",
    access: Access::Requires(Permission::SITE_EMPLOYEES_ASSIGN),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(put, path = "/v1/sites/{site_id}/employees/{employee_id}", tag = "sites", security(("bearer" = [])),
    params(("site_id" = String, Path), ("employee_id" = String, Path)),
    responses((status = 204, description = "Assigned"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path((site_id, employee_id)): Path<(String, String)>,
) -> AppResult<NoContent> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    let user_id = path_id(&employee_id, "employee", UserId::parse)?;
    let org = &principal.org;
    // The site is the caller's to staff, and the person is theirs to bring: an employee they
    // already see (through a site the employee works at), or, for someone assigned nowhere yet,
    // whoever sees employees across the organisation. Otherwise anyone whose id leaked could be
    // pulled into the caller's scope, and read there.
    let (site, person, target) = tokio::join!(
        authorize(&state, &principal, Permission::SITE_EMPLOYEES_ASSIGN, Resource::Site(site_id)),
        authorize(&state, &principal, Permission::EMPLOYEES_VIEW, Resource::User(user_id)),
        user::load(state.store.as_ref(), org, &user_id),
    );
    site?;
    match target {
        Ok(found) if found.record.kind != UserKind::Employee => {
            return Err(AppError::invalid("employee_id", "only employees are assigned to sites"));
        }
        Err(AppError::NotFound(_)) => return Err(AppError::NotFound("employee")),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    person?;
    let assignment = SiteAssignment { user_id, site_id, assigned_at: state.now(), assigned_by: principal.user.id };
    let record = item(keys::site_assignment(org, &user_id, &site_id), user::SITE_ASSIGNMENT_KIND, &assignment)?
        .with_gsi1(keys::site_employee_index(org, &site_id, &user_id));
    let ops = vec![
        TxOp::Check { key: keys::site(org, &site_id), condition: Condition::Exists },
        TxOp::Check { key: keys::user(org, &user_id), condition: Condition::Exists },
        TxOp::put(record, Condition::None),
    ];
    match state.store.transact(ops).await {
        Ok(()) => Ok(NoContent),
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => Err(AppError::NotFound("site")),
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&1) => Err(AppError::NotFound("employee")),
        Err(e) => Err(e.into()),
    }
}
