//! `GET /v1/notifications?status=failed`: outbox items by status (pending, sending, sent,
//! failed), for administrators: nothing is silently dropped.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::schema;
use guardpost_shared::http::{PageParams, Paged, Params, Problem};
use guardpost_shared::notify::{OutboxItem, Status, by_status};
use guardpost_shared::store::{Query, read_page};
use guardpost_shared::{AppResult, AppState};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-notifications",
    method: "GET",
    path: "/v1/notifications",
    access: Access::Requires(Permission::NOTIFICATIONS_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationFilter {
    /// pending, sending, sent or failed; default failed.
    pub status: Option<Status>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    #[param(inline, value_type = Option<schema::Cursor>)]
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", security(("bearer" = [])), params(NotificationFilter),
    responses((status = 200, body = Paged<OutboxItem>), (status = 403, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Params(filter): Params<NotificationFilter>,
) -> AppResult<Json<Paged<OutboxItem>>> {
    authorize(&state, &principal, Permission::NOTIFICATIONS_VIEW, Resource::Organisation).await?;
    let page = PageParams { limit: filter.limit, cursor: filter.cursor };
    let status = filter.status.unwrap_or(Status::Failed);
    let query = Query::gsi2(by_status(&principal.org, status)).limit(page.limit()?).after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let items = result.items.iter().map(|i| i.parse::<OutboxItem>()).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Paged::from_page(&result, items)))
}
