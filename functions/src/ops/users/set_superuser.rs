//! `PUT /v1/users/{user_id}/superuser`: set or clear the superuser flag. Superusers only; the
//! organisation's count of superusers is written in the same transaction against the version
//! read, so the last superuser cannot be removed, even by two requests at once.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize, schema};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{BoundedText, UserId};
use guardpost_shared::http::{Body, Problem, path_id};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::org::{self, Organisation};
use guardpost_shared::records::role;
use guardpost_shared::records::user::{self, UserKind, UserStatus};
use guardpost_shared::records::{get, item, keys, written_over};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ops::roles::superuser_required;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "set-superuser",
    method: "PUT",
    path: "/v1/users/{user_id}/superuser",
    access: Access::Requires(Permission::ROLES_MANAGE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSuperuser {
    pub superuser: bool,
    #[schema(value_type = schema::Reason)]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuperuserFlag {
    pub user_id: String,
    pub superuser: bool,
    /// Superusers in the organisation after the change.
    pub superusers: u32,
}

#[utoipa::path(put, path = "/v1/users/{user_id}/superuser", tag = "access", security(("bearer" = [])), request_body = SetSuperuser,
    params(("user_id" = String, Path)),
    responses((status = 200, body = SuperuserFlag), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, description = "The last superuser", body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<String>,
    Body(req): Body<SetSuperuser>,
) -> AppResult<Json<SuperuserFlag>> {
    let id = path_id(&user_id, "user", UserId::parse)?;
    authorize(&state, &principal, Permission::ROLES_MANAGE, Resource::Organisation).await?;
    if !principal.user.is_superuser {
        return Err(superuser_required("set or clear the superuser flag"));
    }
    let reason = BoundedText::<1, 500>::parse(&req.reason).map_err(|e| AppError::invalid("reason", e.to_string()))?;
    let org_slug = &principal.org;
    let current = user::load(state.store.as_ref(), org_slug, &id).await?;
    let organisation = get::<Organisation>(state.store.as_ref(), &keys::org(org_slug))
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    let mut count = organisation.record.superusers;
    if current.record.is_superuser == req.superuser {
        return Ok(Json(SuperuserFlag { user_id: id.to_string(), superuser: req.superuser, superusers: count }));
    }
    if req.superuser && current.record.kind != UserKind::Employee {
        return Err(AppError::invalid("superuser", "only employees can be superusers"));
    }
    // A superuser who cannot act would still count against "the last superuser": only active
    // employees with no Terminated assignment (now or to come), and the access item is checked
    // unchanged in the same transaction.
    let access = role::load_access(state.store.as_ref(), org_slug, &id).await?;
    let now = state.now();
    let terminated = access
        .record
        .assignments
        .iter()
        .any(|a| a.role_id.as_str() == "terminated" && a.validity(now) != role::Validity::Expired);
    if req.superuser && (current.record.status != UserStatus::Active || terminated) {
        return Err(AppError::conflict("not-active", "only an active, not terminated employee can be a superuser"));
    }
    if !req.superuser && count <= 1 {
        return Err(AppError::conflict("last-superuser", "the organisation's last superuser cannot be removed"));
    }
    count = if req.superuser { count + 1 } else { count - 1 };
    let mut user = current.record.clone();
    user.is_superuser = req.superuser;
    user.updated_at = state.now();
    let mut org_record = organisation.record.clone();
    org_record.superusers = count;
    let mut org_item = item(keys::org(org_slug), org::KIND, &org_record)?;
    org_item.version = organisation.version + 1;
    let user_item = user.item(org_slug, current.version + 1)?;
    let action = if req.superuser { "superuser.set" } else { "superuser.clear" };
    let before = serde_json::json!({ "superuser": current.record.is_superuser });
    let after = serde_json::json!({ "superuser": req.superuser, "reason": reason.as_str() });
    let change = Change::new(action, vec![id.to_string()], &before, &after)?;
    state
        .store
        .transact(vec![
            TxOp::put(user_item, Condition::VersionIs(current.version)),
            TxOp::put(org_item, Condition::VersionIs(organisation.version)),
            TxOp::Check { key: keys::user_access(org_slug, &id), condition: written_over(access.version) },
            audit::record(org_slug, &principal, state.new_ulid(), state.now(), change)?,
        ])
        .await?;
    Ok(Json(SuperuserFlag { user_id: id.to_string(), superuser: req.superuser, superusers: count }))
}
