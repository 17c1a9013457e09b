//! `GET /v1/regions`.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::http::{PageParams, Paged, Params, Problem};
use guardpost_shared::records::keys;
use guardpost_shared::records::region::Region;
use guardpost_shared::store::{Query, read_page};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-regions",
    method: "GET",
    path: "/v1/regions",
    access: Access::Requires(Permission::REGIONS_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/regions", tag = "regions", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Paged<Region>), (status = 403, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Params(page): Params<PageParams>,
) -> AppResult<Json<Paged<Region>>> {
    authorize(&state, &principal, Permission::REGIONS_VIEW, Resource::Organisation).await?;
    let query = Query::table(keys::regions(&principal.org)).limit(page.limit()?).after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let items = result.items.iter().map(|i| i.parse::<Region>()).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Paged::from_page(&result, items)))
}
