//! `POST /v1/sites/{site_id}/clock-in` (TrackTik's "Clock in Using an Onsite License"):
//! - a shift of the caller's at this site whose window holds now (from the early-arrival
//!   allowance before its start to its end) gets the time entry;
//! - a shift at another site for now is `409 scheduled-elsewhere`, naming that site and shift;
//! - no shift anywhere: an unplanned shift is made for this site and the caller clocked in.
//!
//! Three store round trips: the session check, the caller's shifts around now (their own
//! partition, read consistently), and one transaction that creates the clock state (only if
//! absent: one open entry per employee), the entry, the unplanned shift if any (with the outbox
//! item that tells the site's managers), and checks that the site exists and the caller is
//! assigned to it.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Duration;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{ShiftId, SiteId, TimeEntryId};
use guardpost_shared::http::{Created, OptionalBody, Problem, idempotency, path_id};
use guardpost_shared::notify::{Message, enqueue};
use guardpost_shared::records::shift::{self, Shift, ShiftKind};
use guardpost_shared::records::site::Site;
use guardpost_shared::records::time_entry::{ClockState, TimeEntry};
use guardpost_shared::records::{Tx, get, keys, sort_time};
use guardpost_shared::store::{Condition, Page, Query, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ClockRequest;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "clock-in",
    method: "POST",
    path: "/v1/sites/{site_id}/clock-in",
    access: Access::Requires(Permission::TIME_CLOCK),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

/// Shifts last at most this long, so a clock-in only looks this far back for one.
pub const MAX_SHIFT_HOURS: i64 = 24;

#[utoipa::path(post, path = "/v1/sites/{site_id}/clock-in", tag = "time", security(("bearer" = [])),
    params(("site_id" = String, Path)),
    request_body(content = ClockRequest, description = "Optional: location and note (an empty body is fine)"),
    responses(
        (status = 201, body = TimeEntry),
        (status = 403, description = "Not assigned to the site", body = Problem),
        (status = 409, description = "scheduled-elsewhere, already-clocked-in, schedule-changed", body = Problem),
    ))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
    OptionalBody(body): OptionalBody<ClockRequest>,
) -> AppResult<Response> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    let (location, note) = body.unwrap_or_default().parse()?;
    let org = &principal.org;
    let me = principal.user.id;
    let now = state.now();
    let early = Duration::minutes(state.settings.early_clock_in_minutes);

    // The caller's shifts that could hold now, read while the decision reads its facts (the
    // caller's own partition; nothing of it is used unless the decision allows): the access
    // check adds no waiting to clock-in.
    let from = format!("{}{}", keys::SHIFT_PREFIX, sort_time(now - Duration::hours(MAX_SHIFT_HOURS)));
    let to = format!("{}{}~", keys::SHIFT_PREFIX, sort_time(now + early));
    let shifts = Query::table(keys::user_items(org, &me)).between(from, to).limit(100);
    let (allowed, page) = tokio::join!(
        authorize(&state, &principal, Permission::TIME_CLOCK, Resource::Site(site_id)),
        state.store.query(&shifts),
    );
    allowed?;
    // Unplanned shifts are made by clock-ins: one that holds now belongs to an open entry,
    // which the transaction below reports as already-clocked-in.
    let scheduled = |page: Page| -> AppResult<Vec<Shift>> {
        Ok(shift::parse_all(&page.items)?
            .into_iter()
            .filter(|s| s.kind == ShiftKind::Scheduled && s.window_contains(now, early))
            .collect())
    };
    let mut current = scheduled(page?)?;
    // No shift now: this clock-in adds an unplanned shift to the schedule, as a scheduler adds
    // one, so it takes part in the schedule's version like them. The version is read first and
    // the shifts again after it; a shift scheduled in between either shows here or makes the
    // transaction fail on the version: never both shifts.
    let mut schedule_read = None;
    if current.is_empty() {
        let version = shift::schedule_version(state.store.as_ref(), org, &me).await?;
        current = scheduled(state.store.query(&shifts).await?)?;
        schedule_read = Some(version);
    }
    let here = current.iter().filter(|s| s.site_id == site_id).min_by_key(|s| s.start).cloned();
    if here.is_none()
        && let Some(elsewhere) = current.iter().min_by_key(|s| s.start)
    {
        return Err(scheduled_elsewhere(&state, &principal, elsewhere).await);
    }

    let mut ops = Vec::new();
    let (shift, unplanned) = match here {
        Some(shift) => (shift, false),
        None => {
            let shift = Shift {
                id: ShiftId::from_ulid(state.new_ulid()),
                kind: ShiftKind::Unplanned,
                site_id,
                employee_id: me,
                start: now,
                end: now + Duration::hours(state.settings.unplanned_shift_hours),
                position: None,
                created_at: now,
                created_by: me,
                released_at: None,
            };
            ops.extend(shift.create_ops(org)?);
            (shift, true)
        }
    };
    let entry = TimeEntry {
        id: TimeEntryId::from_ulid(state.new_ulid()),
        employee_id: me,
        site_id,
        shift_id: shift.id,
        unplanned,
        clock_in: now,
        clock_out: None,
        breaks: Vec::new(),
        clock_in_location: location,
        clock_in_note: note,
        clock_out_location: None,
        clock_out_note: None,
        approval: None,
    };
    let clock = ClockState { entry: entry.clone(), entry_version: 1 };
    let mut tx = Tx::new();
    // A failure answers the first failed operation's reason: a missing site before the rest.
    tx.push(TxOp::Check { key: keys::site(org, &site_id), condition: Condition::Exists }, AppError::NotFound("site"));
    tx.push(TxOp::put(clock.item(org, &me, 1)?, Condition::NotExists), AppError::conflict(ALREADY_CLOCKED_IN, ""));
    tx.push_plain(TxOp::put(entry.item(org, 1)?, Condition::NotExists));
    // Superusers may clock in anywhere (to cover a post); everyone else only where assigned.
    if !principal.user.is_superuser {
        tx.push(
            TxOp::Check { key: keys::site_assignment(org, &me, &site_id), condition: Condition::Exists },
            AppError::Denied {
                kind: "not-assigned-to-site",
                detail: "You are not assigned to this site; ask a supervisor to assign you.".into(),
            },
        );
    }
    ops.into_iter().for_each(|op| tx.push_plain(op));
    if let (true, Some(version)) = (unplanned, schedule_read) {
        tx.push(
            shift::schedule_moved_on(org, &me, version, now)?,
            AppError::conflict("schedule-changed", "Your schedule changed at this moment; clock in again."),
        );
    }
    if unplanned {
        // The site's managers hear of it (SMS, or email when they have no SMS phone).
        let message = Message::UnplannedClockIn { site_id, employee_id: me, entry_id: entry.id, at: now };
        tx.push_plain(enqueue(org, state.new_ulid().to_string(), message, now)?);
    }
    let entry_id = entry.id;
    match idempotency::commit(tx, state.store.as_ref(), Created(entry)).await {
        Ok(answer) => {
            tracing::info!(site = %site_id, entry = %entry_id, unplanned, "clocked in");
            Ok(answer)
        }
        // Says where and since when.
        Err(AppError::Conflict { kind: ALREADY_CLOCKED_IN, .. }) => Err(already_clocked_in(&state, &principal).await),
        Err(e) => Err(e),
    }
}

const ALREADY_CLOCKED_IN: &str = "already-clocked-in";

/// 409 naming the site and shift the caller is scheduled at instead.
async fn scheduled_elsewhere(state: &AppState, principal: &Principal, shift: &Shift) -> AppError {
    let site = get::<Site>(state.store.as_ref(), &keys::site(&principal.org, &shift.site_id)).await.ok().flatten();
    let name = site.map(|s| s.record.name).unwrap_or_default();
    let mut extra = serde_json::Map::new();
    extra.insert("scheduled_site".into(), json!({"id": shift.site_id, "name": name}));
    extra.insert("shift".into(), json!({"id": shift.id, "start": shift.start, "end": shift.end}));
    AppError::ConflictWith {
        kind: "scheduled-elsewhere",
        detail: format!(
            "You are scheduled at a different location: {name} from {} to {}.",
            shift.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            shift.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
        extra,
    }
}

async fn already_clocked_in(state: &AppState, principal: &Principal) -> AppError {
    let mut extra = serde_json::Map::new();
    let detail = match super::transition::current(state, principal).await {
        Ok(Some(open)) => {
            let e = &open.record.entry;
            extra.insert("time_entry".into(), json!({"id": e.id, "site_id": e.site_id, "clock_in": e.clock_in}));
            format!(
                "You are already clocked in at site {} since {}.",
                e.site_id,
                e.clock_in.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        }
        _ => "You are already clocked in.".to_owned(),
    };
    AppError::ConflictWith { kind: ALREADY_CLOCKED_IN, detail, extra }
}
