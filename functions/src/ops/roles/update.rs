//! `PATCH /v1/roles/{role_id}`: only the fields given change. Default roles and any role's
//! permissions: superusers only. Written against the version read, so two editors cannot
//! silently overwrite each other; the change applies on every holder's next request.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::schema::{Cidr, PermissionName, RoleDescription, RoleRef};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{RoleId, Validator, schema};
use guardpost_shared::http::{Body, Problem, path_id};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::role::{self, ApiAccess};
use guardpost_shared::records::{item, keys};
use guardpost_shared::store::{Condition, StoreError, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{RoleView, check_may_edit, parse_cidrs, parse_description, parse_name, parse_permissions};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "update-role",
    method: "PATCH",
    path: "/v1/roles/{role_id}",
    access: Access::Requires(Permission::ROLES_MANAGE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoleRequest {
    #[schema(value_type = Option<schema::Name>)]
    pub name: Option<String>,
    #[schema(value_type = Option<RoleDescription>)]
    pub description: Option<String>,
    /// The whole new set (superusers only): catalogue names, each of the role's portal.
    #[schema(value_type = Option<Vec<PermissionName>>)]
    pub permissions: Option<Vec<String>>,
    pub api_access: Option<ApiAccess>,
    /// At most 50 CIDR ranges (superusers only).
    #[schema(value_type = Option<Vec<Cidr>>, max_items = 50)]
    pub allowed_cidrs: Option<Vec<String>>,
}

#[utoipa::path(patch, path = "/v1/roles/{role_id}", tag = "access", security(("bearer" = [])), request_body = UpdateRoleRequest,
    params(("role_id" = inline(RoleRef), Path)),
    responses((status = 200, body = RoleView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(role_id): Path<String>,
    Body(req): Body<UpdateRoleRequest>,
) -> AppResult<Json<RoleView>> {
    let id = path_id(&role_id, "role", RoleId::parse)?;
    authorize(&state, &principal, Permission::ROLES_MANAGE, Resource::Organisation).await?;
    let org = &principal.org;
    let current = role::load(state.store.as_ref(), org, &id).await?;
    let before = current.record.clone();
    check_may_edit(
        &principal,
        &before,
        req.permissions.is_some(),
        req.api_access.is_some() || req.allowed_cidrs.is_some(),
    )?;
    let mut v = Validator::new();
    let name = req.name.as_deref().and_then(|n| parse_name(&mut v, n));
    let description = req.description.as_deref().and_then(|d| parse_description(&mut v, d));
    let permissions = req.permissions.as_deref().map(|p| parse_permissions(&mut v, before.portal, p));
    let cidrs = req.allowed_cidrs.as_deref().map(|c| parse_cidrs(&mut v, c));
    v.finish()?;
    if before.default && name.as_ref().is_some_and(|n| *n != before.name) {
        return Err(AppError::invalid("name", "default roles keep their names"));
    }
    let mut role = before.clone();
    let mut ops = Vec::new();
    if let Some(name) = name.filter(|n| *n != before.name) {
        if name.to_lowercase() != before.name.to_lowercase() {
            let claim = item(keys::role_name(org, &name), role::ROLE_NAME_KIND, &serde_json::json!({ "role_id": id }))?;
            ops.push(TxOp::put(claim, Condition::NotExists));
            ops.push(TxOp::Delete { key: keys::role_name(org, &before.name), condition: Condition::Exists });
        }
        role.name = name;
    }
    role.description = description.unwrap_or(role.description);
    role.permissions = permissions.unwrap_or(role.permissions);
    role.api_access = req.api_access.unwrap_or(role.api_access);
    role.allowed_cidrs = cidrs.unwrap_or(role.allowed_cidrs);
    role.updated_at = state.now();
    let renamed = !ops.is_empty();
    ops.push(TxOp::put(role.item(org, current.version + 1)?, Condition::VersionIs(current.version)));
    let change = Change::new("role.update", vec![id.to_string()], &before, &role)?;
    ops.push(audit::record(org, &principal, state.new_ulid(), state.now(), change)?);
    match state.store.transact(ops).await {
        Ok(()) => Ok(Json(RoleView::shown(&role, current.version + 1, &principal))),
        Err(StoreError::TransactionCanceled { failed }) if renamed && failed.contains(&0) => {
            Err(AppError::conflict("role-name-taken", format!("a role named {} already exists", role.name)))
        }
        Err(e) => Err(e.into()),
    }
}
