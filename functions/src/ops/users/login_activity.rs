//! `GET /v1/users/{user_id}/login-activity`: SecurityTrax's "Login Activity": when the user tried
//! to log in, from which address and user agent, and how it went (success or the kind of
//! failure), newest first, paged. Login activity is kept 400 days.
//!
//! Who may read it depends on whose it is: one's own, always; an employee's, with
//! `employees:view` over them; a client user's, with `client-access:view` over the site of their
//! access; an integration's, with `integrations:manage`.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, authorize_self};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::UserId;
use guardpost_shared::http::{PageParams, Paged, Params, Problem, path_id};
use guardpost_shared::records::keys;
use guardpost_shared::records::user::LoginActivity;
use guardpost_shared::store::{Item, Query, read_page};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::authorize_user;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-login-activity",
    method: "GET",
    path: "/v1/users/{user_id}/login-activity",
    access: Access::Requires(Permission::EMPLOYEES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/users/{user_id}/login-activity", tag = "employees", security(("bearer" = [])),
    params(("user_id" = String, Path), PageParams),
    responses((status = 200, body = Paged<LoginActivity>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<String>,
    Params(page): Params<PageParams>,
) -> AppResult<Json<Paged<LoginActivity>>> {
    let id = path_id(&user_id, "user", UserId::parse)?;
    let store = state.store.as_ref();
    let org = &principal.org;
    if id == principal.user.id {
        authorize_self(&state, &principal).await?;
    } else {
        authorize_user(&state, &principal, &id, Permission::EMPLOYEES_VIEW, Permission::CLIENT_ACCESS_VIEW, false)
            .await?;
    }
    let query = Query::table(keys::user_items(org, &id))
        .prefix(keys::LOGIN_ACTIVITY_PREFIX)
        .descending()
        .limit(page.limit()?)
        .after(page.cursor()?);
    let result = read_page(store, &query).await?;
    let items = result.items.iter().map(Item::parse::<LoginActivity>).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Paged::from_page(&result, items)))
}
