//! `POST /v1/regions`.

use axum::extract::State;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{Name, RegionId, Validator, schema};
use guardpost_shared::http::{Body, Created, Problem, idempotency};
use guardpost_shared::records::region::{self, Region};
use guardpost_shared::records::{Tx, item, keys};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "create-region",
    method: "POST",
    path: "/v1/regions",
    access: Access::Requires(Permission::REGIONS_CREATE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRegionRequest {
    #[schema(value_type = schema::Name)]
    pub name: String,
}

#[utoipa::path(post, path = "/v1/regions", tag = "regions", security(("bearer" = [])), request_body = CreateRegionRequest,
    responses((status = 201, body = Region), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Body(req): Body<CreateRegionRequest>,
) -> AppResult<axum::response::Response> {
    authorize(&state, &principal, Permission::REGIONS_CREATE, Resource::Organisation).await?;
    let mut v = Validator::new();
    let name = v.check("name", Name::parse(&req.name));
    v.finish()?;
    let Some(name) = name else { return Err(guardpost_shared::AppError::invalid("name", "required")) };
    let region = Region { id: RegionId::from_ulid(state.new_ulid()), name: name.into_inner(), created_at: state.now() };
    let mut tx = Tx::new();
    tx.push_plain(TxOp::put(
        item(keys::region(&principal.org, &region.id), region::KIND, &region)?,
        Condition::NotExists,
    ));
    idempotency::commit(tx, state.store.as_ref(), Created(region)).await
}
