//! `POST /v1/notifications/{notification_id}/retry`: an administrator sends a failed message
//! again (after fixing an address, or once an outage is over). It goes back to the outbox as
//! pending and due now, with a fresh retry window and its claims counted from zero; what it
//! failed with stays in `last_error` until the next attempt.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::http::{Problem, idempotency};
use guardpost_shared::notify::{OutboxItem, Status, outbox_key};
use guardpost_shared::records::{Tx, get};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "retry-notification",
    method: "POST",
    path: "/v1/notifications/{notification_id}/retry",
    access: Access::Requires(Permission::NOTIFICATIONS_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(post, path = "/v1/notifications/{notification_id}/retry", tag = "notifications", security(("bearer" = [])),
    params(("notification_id" = String, Path, description = "The id of an outbox item, as listed", max_length = 200)),
    responses((status = 200, body = OutboxItem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "not-failed", body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(notification_id): Path<String>,
) -> AppResult<Response> {
    authorize(&state, &principal, Permission::NOTIFICATIONS_VIEW, Resource::Organisation).await?;
    // Outbox ids are ULIDs, with a recipient's key after a fan-out's: printable, no slashes.
    let valid = (1..=200).contains(&notification_id.len())
        && notification_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid {
        return Err(AppError::NotFound("notification"));
    }
    let org = &principal.org;
    let key = outbox_key(org, &notification_id);
    let found = get::<OutboxItem>(state.store.as_ref(), &key).await?.ok_or(AppError::NotFound("notification"))?;
    let mut out = found.record;
    if out.status != Status::Failed {
        return Err(AppError::conflict("not-failed", "only a failed notification is sent again"));
    }
    let now = state.now();
    out.status = Status::Pending;
    out.next_attempt_at = now;
    out.retry_from = Some(now);
    out.attempts = 0;
    out.stale_claims = 0;
    out.claimed_at = None;
    let mut tx = Tx::new();
    tx.push_plain(TxOp::put(out.item(org, found.version + 1)?, Condition::VersionIs(found.version)));
    let id = out.id.clone();
    let answer = idempotency::commit(tx, state.store.as_ref(), Json(out)).await?;
    tracing::info!(outbox = %id, by = %principal.user.id, "notification sent again");
    Ok(answer)
}
