//! `GET /v1/client-accesses/{client_access_id}`: one client access, for those who see the
//! site's client accesses (`client-access:view`).

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::schema;
use guardpost_shared::http::Problem;
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ClientAccessView, locate, shown};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "get-client-access",
    method: "GET",
    path: "/v1/client-accesses/{client_access_id}",
    access: Access::Requires(Permission::CLIENT_ACCESS_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/client-accesses/{client_access_id}", tag = "client-access", security(("bearer" = [])),
    params(("client_access_id" = inline(schema::Id), Path, description = "The client user's id")),
    responses((status = 200, body = ClientAccessView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<ClientAccessView>> {
    let (record, granted) = locate(&state, &principal, &id, Permission::CLIENT_ACCESS_VIEW).await?;
    Ok(Json(shown(&state, &principal.org, &record.record, granted).await?))
}
