//! `GET /v1/me/shifts?from=&to=`: the caller's shifts that overlap the window (TrackTik's
//! "View Your Schedule").

use axum::Json;
use axum::extract::State;
use chrono::Duration;
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::http::{Paged, Params, Problem};
use guardpost_shared::records::shift::{self, Shift};
use guardpost_shared::records::{keys, sort_time};
use guardpost_shared::store::{Query, read_page};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ops::range::RangeParams;
use crate::ops::time::clock_in::MAX_SHIFT_HOURS;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-my-shifts",
    method: "GET",
    path: "/v1/me/shifts",
    access: Access::Requires(Permission::SELF_READ),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/me/shifts", tag = "shifts", security(("bearer" = [])), params(RangeParams),
    responses((status = 200, body = Paged<Shift>), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Params(range): Params<RangeParams>,
) -> AppResult<Json<Paged<Shift>>> {
    let (from, to) = range.window(state.now() + Duration::days(7))?;
    let page = range.page();
    guardpost_shared::access::authorize_self(&state, &principal).await?;
    let query = Query::table(keys::user_items(&principal.org, &principal.user.id))
        .between(
            format!("{}{}", keys::SHIFT_PREFIX, sort_time(from - Duration::hours(MAX_SHIFT_HOURS))),
            format!("{}{}~", keys::SHIFT_PREFIX, sort_time(to)),
        )
        .limit(page.limit()?)
        .after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let items = shift::parse_all(&result.items)?.into_iter().filter(|s| s.end > from).collect();
    Ok(Json(Paged::from_page(&result, items)))
}
