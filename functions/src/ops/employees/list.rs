//! `GET /v1/employees`: a page of the organisation's users, oldest first.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::http::{PageParams, Paged, Params, Problem};
use guardpost_shared::records::keys;
use guardpost_shared::records::user::{self, User};
use guardpost_shared::store::{Query, read_page};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::view::EmployeeView;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-employees",
    method: "GET",
    path: "/v1/employees",
    access: Access::Requires(Permission::EMPLOYEES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/employees", tag = "employees", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Paged<EmployeeView>), (status = 403, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Params(page): Params<PageParams>,
) -> AppResult<Json<Paged<EmployeeView>>> {
    let granted = authorize(&state, &principal, Permission::EMPLOYEES_VIEW, Resource::Organisation).await?;
    let sensitive = granted.also(&state, &principal, Permission::EMPLOYEES_VIEW_SENSITIVE).await?;
    let query = Query::table(keys::users(&principal.org)).limit(page.limit()?).after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let users = result.items.iter().map(|i| i.parse::<User>()).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<_> = users.iter().map(|u| u.id).collect();
    let logins = user::last_logins(state.store.as_ref(), &principal.org, &ids).await?;
    let items =
        users.iter().map(|u| EmployeeView::shown(u, sensitive).with_last_login(logins.get(&u.id).copied())).collect();
    Ok(Json(Paged::from_page(&result, items)))
}
