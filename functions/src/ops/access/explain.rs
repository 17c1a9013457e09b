//! `GET /v1/access/explain?user_id=&permission=&site_id=`: whether a user may exercise a
//! permission (on a site, a region, or the organisation) and why: the assignments that grant it,
//! or the reason it is denied. The same decision function as every request, on the same data.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::schema::{IpAddress, PermissionName};
use guardpost_shared::access::{Decision, Permission, Resource, Subject, authorize, catalogue, decision, gather};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{RegionId, SiteId, UserId, schema};
use guardpost_shared::http::{Params, Problem};
use guardpost_shared::records::{role, user};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "explain-access",
    method: "GET",
    path: "/v1/access/explain",
    access: Access::Requires(Permission::ACCESS_REVIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExplainParams {
    #[param(inline, value_type = schema::Id)]
    pub user_id: String,
    /// A catalogue name, e.g. `shifts:create`.
    #[param(inline, value_type = PermissionName)]
    pub permission: String,
    /// The site it would be exercised on; or `region_id` (not both); neither: the organisation.
    #[param(inline, value_type = Option<schema::Id>)]
    pub site_id: Option<String>,
    #[param(inline, value_type = Option<schema::Id>)]
    pub region_id: Option<String>,
    /// For integration users: the address to judge API access from.
    #[param(inline, value_type = Option<IpAddress>)]
    pub ip: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Explanation {
    pub user_id: String,
    pub permission: String,
    pub site_id: Option<String>,
    pub region_id: Option<String>,
    pub is_superuser: bool,
    pub decision: Decision,
}

/// Parses an optional id query parameter; a bad one is a 422 on that field.
pub(crate) fn opt_id<T>(
    raw: Option<&str>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, guardpost_shared::domain::IdError>,
) -> AppResult<Option<T>> {
    raw.map(|r| parse(r).map_err(|_| AppError::invalid(field, "is not a valid id"))).transpose()
}

#[utoipa::path(get, path = "/v1/access/explain", tag = "access", security(("bearer" = [])), params(ExplainParams),
    responses((status = 200, body = Explanation), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Params(params): Params<ExplainParams>,
) -> AppResult<Json<Explanation>> {
    authorize(&state, &principal, Permission::ACCESS_REVIEW, Resource::Organisation).await?;
    let user_id = UserId::parse(&params.user_id).map_err(|_| AppError::invalid("user_id", "is not a valid id"))?;
    let permission = catalogue::find(params.permission.trim())
        .ok_or_else(|| AppError::invalid("permission", "not in the catalogue (GET /v1/permissions)"))?;
    let site_id = opt_id(params.site_id.as_deref(), "site_id", SiteId::parse)?;
    let region_id = opt_id(params.region_id.as_deref(), "region_id", RegionId::parse)?;
    let ip = params
        .ip
        .as_deref()
        .map(|ip| ip.parse().map_err(|_| AppError::invalid("ip", "is not an IP address")))
        .transpose()?;
    let resource = match (site_id, region_id) {
        (Some(_), Some(_)) => return Err(AppError::invalid("site_id", "give site_id or region_id, not both")),
        (Some(site), None) => Resource::Site(site),
        (None, Some(region)) => Resource::Region(region),
        (None, None) => Resource::Organisation,
    };
    let store = state.store.as_ref();
    let org = &principal.org;
    let found = tokio::try_join!(user::load(store, org, &user_id), role::load_access(store, org, &user_id));
    let (target_user, access) = found.map_err(|e| match e {
        AppError::NotFound(_) => AppError::NotFound("user"),
        other => other,
    })?;
    let (target_user, access) = (target_user.record, access.record);
    let (roles, target) = gather(store, org, &access.assignments, resource).await?;
    let subject = Subject { user: &target_user, assignments: &access.assignments, roles: &roles, ip };
    let mut decision = decision::decide(&subject, permission.name, &target, state.now());
    // How each assignment bore on the permission tells whether its role holds it: role
    // permissions are for superusers' eyes only, so others see the decision, not the bearings.
    if !principal.user.is_superuser {
        for considered in &mut decision.assignments {
            considered.bearing = decision::Bearing::Hidden;
        }
    }
    Ok(Json(Explanation {
        user_id: user_id.to_string(),
        permission: permission.name.to_owned(),
        site_id: site_id.map(|s| s.to_string()),
        region_id: region_id.map(|r| r.to_string()),
        is_superuser: target_user.is_superuser,
        decision,
    }))
}
