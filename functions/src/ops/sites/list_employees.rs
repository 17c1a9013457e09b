//! `GET /v1/sites/{site_id}/employees`: who is assigned to a site.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{SiteId, UserId};
use guardpost_shared::http::{PageParams, Paged, Params, Problem, path_id};
use guardpost_shared::records::keys;
use guardpost_shared::records::user::{self, SiteAssignment, User};
use guardpost_shared::store::{MAX_BATCH_GET, Query, read_page};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ops::employees::view::EmployeeView;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-site-employees",
    method: "GET",
    path: "/v1/sites/{site_id}/employees",
    access: Access::Requires(Permission::SITE_EMPLOYEES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/sites/{site_id}/employees", tag = "sites", security(("bearer" = [])),
    params(("site_id" = String, Path), PageParams),
    responses((status = 200, body = Paged<EmployeeView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
    Params(page): Params<PageParams>,
) -> AppResult<Json<Paged<EmployeeView>>> {
    let id = path_id(&site_id, "site", SiteId::parse)?;
    let granted = authorize(&state, &principal, Permission::SITE_EMPLOYEES_VIEW, Resource::Site(id)).await?;
    let sensitive = granted.also(&state, &principal, Permission::EMPLOYEES_VIEW_SENSITIVE).await?;
    let query = Query::gsi1(keys::site_employees(&principal.org, &id)).limit(page.limit()?).after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let ids: Vec<UserId> =
        result.items.iter().map(|i| i.parse::<SiteAssignment>().map(|a| a.user_id)).collect::<Result<_, _>>()?;
    let user_keys: Vec<_> = ids.iter().map(|u| keys::user(&principal.org, u)).collect();
    let mut users: Vec<User> = Vec::new();
    for chunk in user_keys.chunks(MAX_BATCH_GET) {
        for item in state.store.batch_get(chunk).await? {
            if item.kind == user::KIND {
                users.push(item.parse()?);
            }
        }
    }
    // Keep the listing's order (by user id).
    users.sort_by_key(|u| ids.iter().position(|i| *i == u.id));
    let logins = user::last_logins(state.store.as_ref(), &principal.org, &ids).await?;
    let items = users.iter().map(|u| EmployeeView::shown(u, sensitive).with_last_login(logins.get(&u.id).copied()));
    Ok(Json(Paged::from_page(&result, items.collect())))
}
