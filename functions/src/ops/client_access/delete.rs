//! `DELETE /v1/client-accesses/{client_access_id}`: TrackTik lets a supervisor delete a client's
//! access. The access record and its assignment go, the client user becomes inactive (every
//! session ends on its next request) and their email is free for a new access; the user record
//! stays, for the history, and the audit trail keeps what was deleted. One transaction.

use axum::extract::{Path, State};
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::schema;
use guardpost_shared::http::{NoContent, Problem};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::user::UserStatus;
use guardpost_shared::records::{keys, written_over};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{locate, read_parts};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "delete-client-access",
    method: "DELETE",
    path: "/v1/client-accesses/{client_access_id}",
    access: Access::Requires(Permission::CLIENT_ACCESS_REVOKE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(delete, path = "/v1/client-accesses/{client_access_id}", tag = "client-access", security(("bearer" = [])),
    params(("client_access_id" = inline(schema::Id), Path)),
    responses((status = 204, description = "Deleted; the client's sessions end"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<NoContent> {
    let (record, _) = locate(&state, &principal, &id, Permission::CLIENT_ACCESS_REVOKE).await?;
    let (record, record_version) = (record.record, record.version);
    let org = &principal.org;
    let parts = read_parts(state.store.as_ref(), org, &[record.id])
        .await?
        .remove(&record.id)
        .ok_or(AppError::NotFound("client access"))?;
    let now = state.now();
    let mut user = parts.user.record.clone();
    user.status = UserStatus::Inactive;
    user.end_sessions(now);
    user.updated_at = now;
    let mut access = parts.access.record.clone();
    let removed: Vec<_> = access.assignments.iter().filter(|a| a.id == record.assignment_id).cloned().collect();
    access.assignments.retain(|a| a.id != record.assignment_id);
    access.sessions_valid_after = Some(now);
    let before = serde_json::json!({
        "site_id": record.site_id, "email": user.email, "status": parts.user.record.status, "assignments": removed,
    });
    let change = Change::new("client-access.delete", vec![record.id.to_string()], &before, &serde_json::Value::Null)?;
    let mut ops = vec![
        TxOp::Delete { key: keys::client_access(org, &record.id), condition: Condition::VersionIs(record_version) },
        TxOp::put(user.item(org, parts.user.version + 1)?, Condition::VersionIs(parts.user.version)),
        TxOp::put(access.item(org, &record.id, parts.access.version + 1)?, written_over(parts.access.version)),
        audit::record(org, &principal, state.new_ulid(), now, change)?,
    ];
    if let Some(email) = &user.email {
        // The login name is freed so the same person can be given a new access later.
        ops.push(TxOp::Delete { key: keys::login(org, email.as_str()), condition: Condition::None });
    }
    state.store.transact(ops).await?;
    tracing::info!(client = %record.id, by = %principal.user.id, "client access deleted");
    Ok(NoContent)
}
