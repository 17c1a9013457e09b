//! `POST /v1/integrations`: an integration user with its client credentials and, optionally,
//! its first role (create a dedicated role with `api_access: grant`; TrackTik's advice).

use axum::extract::State;
use guardpost_shared::access::schema::StaffRoleRef;
use guardpost_shared::access::{Grant, Permission, Resource, authorize, may_grant};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{AssignmentId, Name, RoleId, UserId, schema};
use guardpost_shared::http::{Body, Created, Problem};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::role::{self, Assignment, Scope, UserAccess};
use guardpost_shared::records::user::{User, UserKind};
use guardpost_shared::records::{item, keys};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{IntegrationCredentials, client_id, new_secret};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "create-integration",
    method: "POST",
    path: "/v1/integrations",
    access: Access::Requires(Permission::INTEGRATIONS_MANAGE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIntegrationRequest {
    /// E.g. "Payroll export".
    #[schema(value_type = schema::Name)]
    pub name: String,
    /// A role to give it over `role_scope` (default: the organisation).
    #[schema(value_type = Option<StaffRoleRef>)]
    pub role_id: Option<String>,
    pub role_scope: Option<Scope>,
}

#[utoipa::path(post, path = "/v1/integrations", tag = "access", security(("bearer" = [])), request_body = CreateIntegrationRequest,
    responses((status = 201, body = IntegrationCredentials), (status = 403, body = Problem), (status = 409, description = "integration-name-taken", body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Body(req): Body<CreateIntegrationRequest>,
) -> AppResult<Created<IntegrationCredentials>> {
    authorize(&state, &principal, Permission::INTEGRATIONS_MANAGE, Resource::Organisation).await?;
    let name = Name::parse(&req.name).map_err(|e| AppError::invalid("name", e.to_string()))?;
    let org = &principal.org;
    let now = state.now();
    let id = UserId::from_ulid(state.new_ulid());
    let mut assignments = Vec::new();
    if let Some(raw) = &req.role_id {
        let role_id = RoleId::parse(raw).map_err(|_| AppError::invalid("role_id", "no such role"))?;
        let role = role::load(state.store.as_ref(), org, &role_id)
            .await
            .map_err(|_| AppError::invalid("role_id", "no such role"))?
            .record;
        if role.portal == guardpost_shared::access::catalogue::Portal::Client {
            return Err(AppError::invalid("role_id", "integration users hold admin or staff roles"));
        }
        let scope = req.role_scope.clone().unwrap_or(Scope::Org);
        let grant = Grant { grantee: &id, role: &role, scope: &scope, valid_until: None };
        may_grant(&state, &principal, grant).await.map_err(|e| match e {
            AppError::NotFound(what) => AppError::invalid("role_scope", format!("no such {what}")),
            other => other,
        })?;
        let assignment_id = AssignmentId::from_ulid(state.new_ulid());
        assignments.push(Assignment::new(
            assignment_id,
            role_id,
            scope,
            "role given at creation",
            now,
            principal.user.id,
        ));
    }
    let user = User::new(id, UserKind::Integration, name.into_inner(), "(integration)".into(), now);
    let access = UserAccess { user_id: Some(id), assignments, sessions_valid_after: None };
    let (secret, secret_item) = new_secret(&state, org, &id, 1)?;
    let after = serde_json::json!({ "user_id": id, "name": user.first_name, "assignments": access.assignments });
    let change = Change::new("integration.create", vec![id.to_string()], &serde_json::Value::Null, &after)?;
    let claim =
        item(keys::integration_name(org, &user.first_name), "integration-name", &serde_json::json!({ "user_id": id }))?;
    let written = state
        .store
        .transact(vec![
            TxOp::put(claim, Condition::NotExists),
            TxOp::put(user.item(org, 1)?, Condition::NotExists),
            TxOp::put(access.item(org, &id, 1)?, Condition::NotExists),
            TxOp::put(secret_item, Condition::NotExists),
            audit::record(org, &principal, state.new_ulid(), now, change)?,
        ])
        .await;
    match written {
        Err(guardpost_shared::store::StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
            return Err(AppError::conflict("integration-name-taken", "an integration with this name already exists"));
        }
        other => other?,
    }
    Ok(Created(IntegrationCredentials {
        user_id: id.to_string(),
        client_id: client_id(org, &id),
        client_secret: secret,
    }))
}
