//! `DELETE /v1/roles/{role_id}`: custom roles only, and only when no assignment names the role
//! (move them first). The check reads every user's access item from the base table.

use axum::extract::{Path, State};
use guardpost_shared::access::schema::RoleRef;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::RoleId;
use guardpost_shared::http::{NoContent, Problem, path_id};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::keys;
use guardpost_shared::records::role;
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::check_may_edit;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "delete-role",
    method: "DELETE",
    path: "/v1/roles/{role_id}",
    access: Access::Requires(Permission::ROLES_MANAGE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(delete, path = "/v1/roles/{role_id}", tag = "access", security(("bearer" = [])),
    params(("role_id" = inline(RoleRef), Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, description = "A default role, or a role with assignments", body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(role_id): Path<String>,
) -> AppResult<NoContent> {
    let id = path_id(&role_id, "role", RoleId::parse)?;
    authorize(&state, &principal, Permission::ROLES_MANAGE, Resource::Organisation).await?;
    let org = &principal.org;
    let current = role::load(state.store.as_ref(), org, &id).await?;
    if current.record.default {
        return Err(AppError::conflict("default-role", "default roles cannot be deleted"));
    }
    check_may_edit(&principal, &current.record, false, false)?;
    let holders = crate::ops::assignments::holders(state.store.as_ref(), org, &id).await?;
    if !holders.is_empty() {
        return Err(AppError::conflict(
            "role-in-use",
            format!("{} assignment(s) give this role; move or remove them first", holders.len()),
        ));
    }
    let change = Change::new("role.delete", vec![id.to_string()], &current.record, &serde_json::Value::Null)?;
    state
        .store
        .transact(vec![
            TxOp::Delete { key: keys::role(org, &id), condition: Condition::VersionIs(current.version) },
            TxOp::Delete { key: keys::role_name(org, &current.record.name), condition: Condition::None },
            audit::record(org, &principal, state.new_ulid(), state.now(), change)?,
        ])
        .await?;
    Ok(NoContent)
}
