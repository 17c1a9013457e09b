//! `POST /v1/sites/{site_id}/breaks/start`: only while clocked in here and not already on one.

use axum::extract::{Path, State};
use axum::response::Response;
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::http::Problem;
use guardpost_shared::records::time_entry::{Break, TimeEntry};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::transition::change_open_entry;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "start-break",
    method: "POST",
    path: "/v1/sites/{site_id}/breaks/start",
    access: Access::Requires(Permission::TIME_CLOCK),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(post, path = "/v1/sites/{site_id}/breaks/start", tag = "time", security(("bearer" = [])),
    params(("site_id" = String, Path)),
    responses((status = 200, body = TimeEntry), (status = 409, description = "not-clocked-in, clocked-in-elsewhere, already-on-break", body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
) -> AppResult<Response> {
    change_open_entry(&state, &principal, &site_id, |entry, now| {
        if entry.on_break() {
            return Err(AppError::conflict("already-on-break", "You are already on a break."));
        }
        entry.breaks.push(Break { start: now, end: None });
        Ok(())
    })
    .await
}
