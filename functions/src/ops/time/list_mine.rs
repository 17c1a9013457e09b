//! `GET /v1/me/time-entries?from=&to=`: the caller's entries that started in the window.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::http::{Paged, Params, Problem};
use guardpost_shared::records::time_entry::TimeEntry;
use guardpost_shared::records::{keys, sort_time};
use guardpost_shared::store::{Query, read_page};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ops::range::RangeParams;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-my-time-entries",
    method: "GET",
    path: "/v1/me/time-entries",
    access: Access::Requires(Permission::SELF_READ),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/me/time-entries", tag = "time", security(("bearer" = [])), params(RangeParams),
    responses((status = 200, body = Paged<TimeEntry>), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Params(range): Params<RangeParams>,
) -> AppResult<Json<Paged<TimeEntry>>> {
    let (from, to) = range.window(state.now())?;
    let page = range.page();
    guardpost_shared::access::authorize_self(&state, &principal).await?;
    let query = Query::table(keys::user_items(&principal.org, &principal.user.id))
        .between(
            format!("{}{}", keys::TIME_ENTRY_PREFIX, sort_time(from)),
            format!("{}{}~", keys::TIME_ENTRY_PREFIX, sort_time(to)),
        )
        .limit(page.limit()?)
        .after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let items = result.items.iter().map(|i| i.parse::<TimeEntry>()).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Paged::from_page(&result, items)))
}
