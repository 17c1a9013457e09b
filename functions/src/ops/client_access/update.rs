//! `PATCH /v1/client-accesses/{client_access_id}`: TrackTik's "Edit / Revoke a Client Portal
//! Access": names, phone, role and status. Revoking (`status: revoked`, which also needs
//! `client-access:revoke`) makes the client user inactive: their sessions end on their next
//! request and stay ended if the access is made active again later. The user, the assignment and
//! the audit entry are one version-checked transaction.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::Permission;
use guardpost_shared::access::schema::ClientRoleRef;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{Name, Validator, schema};
use guardpost_shared::http::{Body, Problem, present};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::user::UserStatus;
use guardpost_shared::records::written_over;
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ClientAccessStatus, ClientAccessView, locate, read_client_role, read_parts, shown};
use crate::ops::files::{NewPicture, check_declared, pending, ticket};
use crate::ops::users::PhoneInput;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "update-client-access",
    method: "PATCH",
    path: "/v1/client-accesses/{client_access_id}",
    access: Access::Requires(Permission::CLIENT_ACCESS_EDIT),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

/// Absent fields stay as they are; `phone: null` removes the phone.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClientAccessRequest {
    #[schema(value_type = Option<schema::Name>)]
    pub first_name: Option<String>,
    #[schema(value_type = Option<schema::Name>)]
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<PhoneInput>)]
    pub phone: Option<Option<PhoneInput>>,
    /// Another role of the client portal.
    #[schema(value_type = Option<ClientRoleRef>)]
    pub role_id: Option<String>,
    pub status: Option<ClientAccessStatus>,
    /// A new picture (the answer's `picture_upload` says where to send it); `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<NewPicture>)]
    pub picture: Option<Option<NewPicture>>,
}

#[utoipa::path(patch, path = "/v1/client-accesses/{client_access_id}", tag = "client-access", security(("bearer" = [])),
    request_body = UpdateClientAccessRequest,
    params(("client_access_id" = inline(schema::Id), Path)),
    responses((status = 200, body = ClientAccessView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Body(req): Body<UpdateClientAccessRequest>,
) -> AppResult<Json<ClientAccessView>> {
    let (record, granted) = locate(&state, &principal, &id, Permission::CLIENT_ACCESS_EDIT).await?;
    let (mut record, record_version) = (record.record, record.version);
    if req.status == Some(ClientAccessStatus::Revoked)
        && !granted.also(&state, &principal, Permission::CLIENT_ACCESS_REVOKE).await?
    {
        return Err(AppError::Forbidden);
    }
    let store = state.store.as_ref();
    let org = &principal.org;
    let role = match &req.role_id {
        Some(raw) => Some(read_client_role(store, org, raw).await?),
        None => None,
    };
    let parts =
        read_parts(store, org, &[record.id]).await?.remove(&record.id).ok_or(AppError::NotFound("client access"))?;
    let now = state.now();
    let mut v = Validator::new();
    let mut user = parts.user.record.clone();
    if let Some(n) = v.check_opt("first_name", req.first_name.as_deref().map(Name::parse)) {
        user.first_name = n.into_inner();
    }
    if let Some(n) = v.check_opt("last_name", req.last_name.as_deref().map(Name::parse)) {
        user.last_name = n.into_inner();
    }
    match &req.phone {
        Some(Some(p)) => user.main_phone = p.parse(&mut v, "phone"),
        Some(None) => user.main_phone = None,
        None => {}
    }
    let picture = match &req.picture {
        Some(Some(p)) => check_declared(&mut v, "picture", &p.name, &p.content_type, p.size, true)
            .map(|name| Some(pending(&state, &principal, record.id, p.declared(name)))),
        Some(None) => Some(None),
        None => None,
    };
    v.finish()?;
    let mut access = parts.access.record.clone();
    let assignment = access.assignments.iter_mut().find(|a| a.id == record.assignment_id).ok_or_else(|| {
        AppError::conflict("access-missing", "this access's assignment was removed; delete and recreate it")
    })?;
    let before = serde_json::json!({
        "first_name": parts.user.record.first_name, "last_name": parts.user.record.last_name,
        "phone": parts.user.record.main_phone, "role_id": assignment.role_id, "status": parts.user.record.status,
    });
    if let Some(role) = &role {
        assignment.role_id = role.id.clone();
    }
    let revoking = req.status == Some(ClientAccessStatus::Revoked) && user.status == UserStatus::Active;
    let restoring = req.status == Some(ClientAccessStatus::Active) && user.status != UserStatus::Active;
    if revoking {
        user.status = UserStatus::Inactive;
        user.end_sessions(now);
    } else if restoring {
        user.status = UserStatus::Active;
    }
    user.updated_at = now;
    let after = serde_json::json!({
        "first_name": user.first_name, "last_name": user.last_name, "phone": user.main_phone,
        "role_id": assignment.role_id, "status": user.status,
    });
    let action = match (revoking, restoring) {
        (true, _) => "client-access.revoke",
        (_, true) => "client-access.restore",
        _ => "client-access.update",
    };
    let change = Change::new(action, vec![record.id.to_string()], &before, &after)?;
    let (user_version, access_version) = (parts.user.version, parts.access.version);
    let mut ops = vec![
        TxOp::put(user.item(org, user_version + 1)?, Condition::VersionIs(user_version)),
        TxOp::put(access.item(org, &record.id, access_version + 1)?, written_over(access_version)),
        audit::record(org, &principal, state.new_ulid(), now, change)?,
    ];
    if let Some(new_picture) = &picture {
        record.picture_file_id = new_picture.as_ref().map(|f| f.id);
        ops.push(TxOp::put(record.item(org, record_version + 1)?, Condition::VersionIs(record_version)));
        if let Some(file) = new_picture {
            ops.push(TxOp::put(file.item(org, 1)?, Condition::NotExists));
        }
    }
    state.store.transact(ops).await?;
    tracing::info!(client = %record.id, action, by = %principal.user.id, "client access changed");
    let mut view = shown(&state, org, &record, granted).await?;
    if let Some(Some(file)) = &picture {
        view.picture_upload = Some(ticket(&state, org, file).await?);
    }
    Ok(Json(view))
}
