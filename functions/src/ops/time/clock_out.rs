//! `POST /v1/sites/{site_id}/clock-out`: ends the open entry at this site. Not during a break:
//! end it first. An unplanned shift ends when its entry does.

use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::SiteId;
use guardpost_shared::http::{OptionalBody, Problem, path_id};
use guardpost_shared::records::shift::{self, Shift, ShiftKind};
use guardpost_shared::records::time_entry::TimeEntry;
use guardpost_shared::records::{item, keys};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ClockRequest;
use super::transition::{commit, open_entry_at};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "clock-out",
    method: "POST",
    path: "/v1/sites/{site_id}/clock-out",
    access: Access::Requires(Permission::TIME_CLOCK),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(post, path = "/v1/sites/{site_id}/clock-out", tag = "time", security(("bearer" = [])),
    params(("site_id" = String, Path)), request_body(content = ClockRequest, description = "Optional: location and note (an empty body is fine)"),
    responses((status = 200, body = TimeEntry), (status = 409, description = "not-clocked-in, clocked-in-elsewhere, on-break", body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
    OptionalBody(body): OptionalBody<ClockRequest>,
) -> AppResult<axum::response::Response> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    let (location, note) = body.unwrap_or_default().parse()?;
    // The open entry is read while the decision reads its facts; the decision answers first.
    let (allowed, open) = tokio::join!(
        authorize(&state, &principal, Permission::TIME_CLOCK, Resource::Site(site_id)),
        open_entry_at(&state, &principal, &site_id),
    );
    allowed?;
    let open = open?;
    let mut entry = open.record.entry.clone();
    if entry.on_break() {
        return Err(AppError::conflict("on-break", "You are on a break; end it before clocking out."));
    }
    let now = state.now();
    entry.clock_out = Some(now);
    entry.clock_out_location = location;
    entry.clock_out_note = note;
    let extra = if entry.unplanned { end_unplanned_shift(&principal, &entry, now)? } else { Vec::new() };
    let entry_id = entry.id;
    let answer = commit(&state, &principal, &open, entry, false, extra).await?;
    tracing::info!(site = %site_id, entry = %entry_id, "clocked out");
    Ok(answer)
}

/// An unplanned shift lasts as long as its entry: rewrite both copies with the real end.
fn end_unplanned_shift(
    principal: &Principal,
    entry: &TimeEntry,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<TxOp>> {
    let org = &principal.org;
    let shift = Shift {
        id: entry.shift_id,
        kind: ShiftKind::Unplanned,
        site_id: entry.site_id,
        employee_id: entry.employee_id,
        start: entry.clock_in,
        end: now,
        position: None,
        created_at: entry.clock_in,
        created_by: entry.employee_id,
        released_at: None,
    };
    Ok(vec![
        TxOp::put(
            item(keys::site_shift(org, &shift.site_id, shift.start, &shift.id), shift::KIND, &shift)?,
            Condition::Exists,
        ),
        TxOp::put(
            item(keys::user_shift(org, &shift.employee_id, shift.start, &shift.id), shift::KIND, &shift)?,
            Condition::Exists,
        ),
    ])
}
