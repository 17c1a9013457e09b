//! `GET /v1/roles`: the organisation's roles (permissions shown to superusers only).

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::http::{PageParams, Paged, Params, Problem};
use guardpost_shared::records::keys;
use guardpost_shared::records::role::{self, Role};
use guardpost_shared::store::{Query, read_page};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::RoleView;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-roles",
    method: "GET",
    path: "/v1/roles",
    access: Access::Requires(Permission::ROLES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/roles", tag = "access", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Paged<RoleView>), (status = 403, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Params(page): Params<PageParams>,
) -> AppResult<Json<Paged<RoleView>>> {
    authorize(&state, &principal, Permission::ROLES_VIEW, Resource::Organisation).await?;
    let query = Query::table(keys::roles(&principal.org)).limit(page.limit()?).after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let mut items = Vec::new();
    for it in result.items.iter().filter(|i| i.kind == role::KIND) {
        items.push(RoleView::shown(&it.parse::<Role>()?, it.version, &principal));
    }
    Ok(Json(Paged::from_page(&result, items)))
}
