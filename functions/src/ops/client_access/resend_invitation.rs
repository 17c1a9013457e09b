//! `POST /v1/client-accesses/{client_access_id}/resend-invitation`: a new invitation email with
//! a new single-use link (72 hours). The credential moves to a new link generation in the same
//! transaction that queues the email, so every link sent before stops working, and an older
//! invitation still waiting in the outbox is not sent.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::schema;
use guardpost_shared::http::{Problem, idempotency};
use guardpost_shared::notify::{Message, enqueue};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::user::UserStatus;
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ClientAccessView, locate, read_parts, shown};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "resend-client-invitation",
    method: "POST",
    path: "/v1/client-accesses/{client_access_id}/resend-invitation",
    access: Access::Requires(Permission::CLIENT_ACCESS_EDIT),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(post, path = "/v1/client-accesses/{client_access_id}/resend-invitation", tag = "client-access", security(("bearer" = [])),
    params(("client_access_id" = inline(schema::Id), Path)),
    responses((status = 200, description = "A new invitation is on its way", body = ClientAccessView), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "The access is revoked", body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<axum::response::Response> {
    let (record, granted) = locate(&state, &principal, &id, Permission::CLIENT_ACCESS_EDIT).await?;
    let (mut access_record, record_version) = (record.record, record.version);
    let invited_before = access_record.invited_at;
    let org = &principal.org;
    let parts = read_parts(state.store.as_ref(), org, &[access_record.id])
        .await?
        .remove(&access_record.id)
        .ok_or(AppError::NotFound("client access"))?;
    if parts.user.record.status != UserStatus::Active {
        return Err(AppError::conflict("access-revoked", "make the access active before inviting the client again"));
    }
    let credential = parts.credential.ok_or(AppError::NotFound("client access"))?;
    let now = state.now();
    let mut next = credential.record.clone();
    next.link_generation += 1;
    access_record.invited_at = Some(now);
    let invitation = Message::Welcome { user_id: access_record.id, generation: next.link_generation };
    let change = Change::new(
        "client-access.invite",
        vec![access_record.id.to_string()],
        &serde_json::json!({ "invited_at": invited_before }),
        &serde_json::json!({ "invited_at": now }),
    )?;
    let ops = vec![
        TxOp::put(next.item(org, &access_record.id, credential.version + 1)?, Condition::VersionIs(credential.version)),
        TxOp::put(access_record.item(org, record_version + 1)?, Condition::VersionIs(record_version)),
        enqueue(org, state.new_ulid().to_string(), invitation, now)?,
        audit::record(org, &principal, state.new_ulid(), now, change)?,
    ];
    // The answer shows the access as this write leaves it.
    let answer = Json(shown(&state, org, &access_record, granted).await?);
    let answer = idempotency::transact(state.store.as_ref(), ops, answer).await?;
    tracing::info!(client = %access_record.id, by = %principal.user.id, "client invitation sent again");
    Ok(answer)
}
