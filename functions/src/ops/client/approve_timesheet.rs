//! `POST /v1/client/sites/{site_id}/timesheets/{time_entry_id}/approve`: a client with
//! `client-timesheets:maintain` approves a closed time entry of their site (ClickTime's
//! "Maintain" on the timesheet screen; the default Client role only views). The entry is
//! written back against the version read; approving twice answers `409 already-approved`.

use axum::Json;
use axum::extract::{Path, State};
use chrono::Duration;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{SiteId, TimeEntryId, schema};
use guardpost_shared::http::{Problem, idempotency, path_id};
use guardpost_shared::records::time_entry::{Approval, TimeEntry};
use guardpost_shared::records::{Tx, keys, sort_time};
use guardpost_shared::store::{Condition, Query, TxOp, read_all};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::names;
use super::timesheets::ClientTimeEntry;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "approve-client-timesheet",
    method: "POST",
    path: "/v1/client/sites/{site_id}/timesheets/{time_entry_id}/approve",
    access: Access::Requires(Permission::CLIENT_TIMESHEETS_MAINTAIN),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(post, path = "/v1/client/sites/{site_id}/timesheets/{time_entry_id}/approve", tag = "client", security(("bearer" = [])),
    params(("site_id" = inline(schema::Id), Path), ("time_entry_id" = inline(schema::Id), Path)),
    responses((status = 200, body = ClientTimeEntry), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Still open, or already approved", body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path((site_id, entry_id)): Path<(String, String)>,
) -> AppResult<axum::response::Response> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    let entry_id = path_id(&entry_id, "time entry", TimeEntryId::parse)?;
    authorize(&state, &principal, Permission::CLIENT_TIMESHEETS_MAINTAIN, Resource::Site(site_id)).await?;
    let org = &principal.org;
    // A time entry's id is made at its clock-in, so its time names the entry's place in the
    // site's listing; a second either side allows for clocks that disagree.
    let at = chrono::DateTime::<chrono::Utc>::from(entry_id.timestamp());
    let query = Query::gsi1(keys::site_time_entries(org, &site_id))
        .between(sort_time(at - Duration::seconds(1)), format!("{}~", sort_time(at + Duration::seconds(1))));
    let found = read_all(state.store.as_ref(), &query).await?;
    let item = found
        .iter()
        .find(|i| i.parse::<TimeEntry>().is_ok_and(|e| e.id == entry_id))
        .ok_or(AppError::NotFound("time entry"))?;
    let mut entry: TimeEntry = item.parse()?;
    if entry.clock_out.is_none() {
        return Err(AppError::conflict("still-clocked-in", "the guard has not clocked out of this entry yet"));
    }
    if entry.approval.is_some() {
        return Err(AppError::conflict("already-approved", "this entry is already approved"));
    }
    entry.approval = Some(Approval { at: state.now(), by: principal.user.id });
    let names = names(state.store.as_ref(), org, &[entry.employee_id]).await?;
    let answer = Json(ClientTimeEntry::new(&entry, names.get(&entry.employee_id).cloned()));
    let mut tx = Tx::new();
    tx.push_plain(TxOp::put(entry.item(org, item.version + 1)?, Condition::VersionIs(item.version)));
    let answer = idempotency::commit(tx, state.store.as_ref(), answer).await?;
    tracing::info!(entry = %entry.id, by = %principal.user.id, "time entry approved by the client");
    Ok(answer)
}
