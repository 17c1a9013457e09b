//! `GET /v1/roles/{role_id}/assignments`: who holds the role, where and until when. Reads the
//! organisation's access partition a page at a time (a page may come back short).

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::schema::RoleRef;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::RoleId;
use guardpost_shared::http::{PageParams, Paged, Params, Problem, path_id};
use guardpost_shared::records::keys;
use guardpost_shared::records::role;
use guardpost_shared::store::{Query, read_page};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ops::assignments::{AssignmentView, naming};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-role-assignments",
    method: "GET",
    path: "/v1/roles/{role_id}/assignments",
    access: Access::Requires(Permission::ROLES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/roles/{role_id}/assignments", tag = "access", security(("bearer" = [])),
    params(("role_id" = inline(RoleRef), Path), PageParams),
    responses((status = 200, body = Paged<AssignmentView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(role_id): Path<String>,
    Params(page): Params<PageParams>,
) -> AppResult<Json<Paged<AssignmentView>>> {
    let id = path_id(&role_id, "role", RoleId::parse)?;
    authorize(&state, &principal, Permission::ROLES_VIEW, Resource::Organisation).await?;
    role::load(state.store.as_ref(), &principal.org, &id).await?;
    let query = Query::table(keys::access(&principal.org)).limit(page.limit()?).after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let now = state.now();
    let items = naming(&result.items, &id)?.iter().map(|(user, a)| AssignmentView::new(*user, a, now)).collect();
    Ok(Json(Paged::from_page(&result, items)))
}
