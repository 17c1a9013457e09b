//! `GET /v1/sites`: all sites, the sub-sites of a master site (`parent_site_id`) or the sites
//! of a region (`region_id`). Listings read secondary indexes and may trail a write by a moment
//! on DynamoDB; decisions never read them.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::{Permission, authorize_listing};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{RegionId, SiteId, schema};
use guardpost_shared::http::{PageParams, Paged, Params, Problem};
use guardpost_shared::records::keys;
use guardpost_shared::records::site::Site;
use guardpost_shared::store::{Query, read_page};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-sites",
    method: "GET",
    path: "/v1/sites",
    access: Access::Requires(Permission::SITES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SiteFilter {
    /// Only the sub-sites of this master site.
    #[param(value_type = Option<schema::Id>)]
    pub parent_site_id: Option<String>,
    /// Only the sites of this region.
    #[param(value_type = Option<schema::Id>)]
    pub region_id: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(value_type = Option<schema::Cursor>)]
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/sites", tag = "sites", security(("bearer" = [])), params(SiteFilter),
    responses((status = 200, body = Paged<Site>), (status = 403, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Params(filter): Params<SiteFilter>,
) -> AppResult<Json<Paged<Site>>> {
    // Managers see the sites their `sites:view` assignments cover; a page may come back short.
    let scoped = authorize_listing(&state, &principal, Permission::SITES_VIEW).await?;
    let page = PageParams { limit: filter.limit, cursor: filter.cursor.clone() };
    let org = &principal.org;
    let query = match (&filter.parent_site_id, &filter.region_id) {
        (Some(_), Some(_)) => {
            return Err(AppError::invalid("parent_site_id", "filter by parent_site_id or region_id, not both"));
        }
        (Some(parent), None) => {
            let parent = SiteId::parse(parent).map_err(|_| AppError::invalid("parent_site_id", "is not a valid id"))?;
            Query::gsi1(keys::sub_sites(org, &parent))
        }
        (None, Some(region)) => {
            let region = RegionId::parse(region).map_err(|_| AppError::invalid("region_id", "is not a valid id"))?;
            Query::gsi2(keys::region_sites(org, &region))
        }
        (None, None) => Query::table(keys::sites(org)),
    };
    let query = query.limit(page.limit()?).after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let mut items = result.items.iter().map(|i| i.parse::<Site>()).collect::<Result<Vec<_>, _>>()?;
    items.retain(|site| scoped.covers_site(site));
    Ok(Json(Paged::from_page(&result, items)))
}
