//! `POST /v1/sites/{site_id}/shifts`: schedule an employee at a site. The employee must be
//! assigned to the site (checked in the writing transaction) and free at that time.

use axum::extract::{Path, State};
use chrono::Duration;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{ShiftId, ShortText, SiteId, Timestamp, UserId, Validator, schema};
use guardpost_shared::http::{Body, Created, Problem, idempotency, path_id};
use guardpost_shared::records::shift::{self, Shift, ShiftKind};
use guardpost_shared::records::{Tx, keys, sort_time};
use guardpost_shared::store::{Condition, Query, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ops::time::clock_in::MAX_SHIFT_HOURS;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "create-shift",
    method: "POST",
    path: "/v1/sites/{site_id}/shifts",
    access: Access::Requires(Permission::SHIFTS_CREATE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateShiftRequest {
    #[schema(value_type = schema::Id)]
    pub employee_id: String,
    /// RFC 3339.
    pub start: Timestamp,
    /// RFC 3339, after `start`, at most 24 hours later.
    pub end: Timestamp,
    #[schema(value_type = Option<schema::ShortText>)]
    pub position: Option<String>,
}

#[utoipa::path(post, path = "/v1/sites/{site_id}/shifts", tag = "shifts", security(("bearer" = [])), request_body = CreateShiftRequest,
    params(("site_id" = String, Path)),
    responses((status = 201, body = Shift), (status = 404, body = Problem), (status = 409, description = "shift-overlap", body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
    Body(req): Body<CreateShiftRequest>,
) -> AppResult<axum::response::Response> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    authorize(&state, &principal, Permission::SHIFTS_CREATE, Resource::Site(site_id)).await?;
    let (start, end) = (req.start.get(), req.end.get());
    let mut v = Validator::new();
    let employee_id = v.check("employee_id", UserId::parse(&req.employee_id));
    let position = v.check_opt("position", req.position.as_deref().map(ShortText::parse));
    if end <= start {
        v.fail("end", "must be after start");
    } else if end - start > Duration::hours(MAX_SHIFT_HOURS) {
        v.fail("end", "a shift lasts at most 24 hours");
    }
    v.finish()?;
    let Some(employee_id) = employee_id else { return Err(AppError::invalid("employee_id", "required")) };
    let org = &principal.org;

    // The employee must work at this site before anything of their schedule is looked at: a
    // scheduler learns nothing of people who are not theirs to schedule.
    // The employee's schedule version comes along: the overlap check below is a read, so the
    // write is made conditional on nothing having been scheduled for them in between.
    let (assignment_key, schedule_key) =
        (keys::site_assignment(org, &employee_id, &site_id), keys::schedule_version(org, &employee_id));
    let mut read = state.store.batch_get(&[assignment_key.clone(), schedule_key.clone()]).await?;
    let schedule = read.iter().position(|i| i.key == schedule_key).map(|at| read.swap_remove(at));
    if !read.iter().any(|i| i.key == assignment_key) {
        return Err(AppError::invalid("employee_id", "is not an employee assigned to this site"));
    }
    // The employee's shifts that could overlap: those starting up to 24 hours before this one.
    let from = format!("{}{}", keys::SHIFT_PREFIX, sort_time(start - Duration::hours(MAX_SHIFT_HOURS)));
    let to = format!("{}{}", keys::SHIFT_PREFIX, sort_time(end));
    let page =
        state.store.query(&Query::table(keys::user_items(org, &employee_id)).between(from, to).limit(200)).await?;
    if let Some(clash) = shift::parse_all(&page.items)?.into_iter().find(|s| s.start < end && start < s.end) {
        // The clashing shift is named only to whoever may read that site's shifts.
        let readable =
            authorize(&state, &principal, Permission::SHIFTS_VIEW, Resource::Site(clash.site_id)).await.is_ok();
        let detail = if readable {
            format!(
                "The employee already has shift {} at site {} from {} to {}.",
                clash.id, clash.site_id, clash.start, clash.end
            )
        } else {
            "The employee already has a shift at that time.".to_owned()
        };
        return Err(AppError::conflict("shift-overlap", detail));
    }
    let now = state.now();
    let shift = Shift {
        id: ShiftId::from_ulid(state.new_ulid()),
        kind: ShiftKind::Scheduled,
        site_id,
        employee_id,
        start,
        end,
        position: position.map(|p| p.into_inner()).filter(|p| !p.is_empty()),
        created_at: now,
        created_by: principal.user.id,
        released_at: None,
    };
    let read_version = schedule.as_ref().map_or(0, |item| item.version);
    // A failure answers the first failed check, in this order.
    let mut tx = Tx::new();
    tx.push(TxOp::Check { key: keys::site(org, &site_id), condition: Condition::Exists }, AppError::NotFound("site"));
    tx.push(
        shift::schedule_moved_on(org, &employee_id, read_version, now)?,
        AppError::conflict(
            "concurrent-update",
            "The employee's schedule changed at the same moment; read it again and retry.",
        ),
    );
    tx.push(
        TxOp::Check { key: keys::site_assignment(org, &employee_id, &site_id), condition: Condition::Exists },
        AppError::invalid("employee_id", "is not an employee assigned to this site"),
    );
    shift.create_ops(org)?.into_iter().for_each(|op| tx.push_plain(op));
    idempotency::commit(tx, state.store.as_ref(), Created(shift)).await
}
