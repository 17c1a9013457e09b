//! `GET /v1/me/permissions?site_id=`: the caller's effective permissions, on a site or (without
//! one) on the organisation as a whole, for UIs to show only what will work.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::{Permission, Resource, Subject, authorize_self, catalogue, decision, gather_for};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{SiteId, schema};
use guardpost_shared::http::{Params, Problem};
use guardpost_shared::{AppResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::explain::opt_id;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-my-permissions",
    method: "GET",
    path: "/v1/me/permissions",
    access: Access::Requires(Permission::SELF_READ),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyPermissionsParams {
    /// The site to list them on; without one, the organisation as a whole.
    #[param(inline, value_type = Option<schema::Id>)]
    pub site_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyPermissions {
    pub site_id: Option<String>,
    pub is_superuser: bool,
    /// Catalogue names the caller may exercise there now.
    pub permissions: Vec<&'static str>,
}

#[utoipa::path(get, path = "/v1/me/permissions", tag = "access", security(("bearer" = [])), params(MyPermissionsParams),
    responses((status = 200, body = MyPermissions), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Params(params): Params<MyPermissionsParams>,
) -> AppResult<Json<MyPermissions>> {
    authorize_self(&state, &principal).await?;
    let site_id = opt_id(params.site_id.as_deref(), "site_id", SiteId::parse)?;
    let resource = site_id.map_or(Resource::Organisation, Resource::Site);
    let (roles, target) = gather_for(&state, &principal, resource).await?;
    let subject =
        Subject { user: &principal.user, assignments: &principal.access.assignments, roles: &roles, ip: principal.ip };
    let now = state.now();
    let permissions = catalogue::CATALOGUE
        .iter()
        .filter(|p| decision::decide(&subject, p.name, &target, now).allowed)
        .map(|p| p.name)
        .collect();
    Ok(Json(MyPermissions {
        site_id: site_id.map(|s| s.to_string()),
        is_superuser: principal.user.is_superuser,
        permissions,
    }))
}
