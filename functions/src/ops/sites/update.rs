//! `PATCH /v1/sites/{site_id}`: change name, region, time zone, address or status. Written
//! against the version read, so concurrent edits answer 409 instead of overwriting each other.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{Name, RegionId, SiteId, TimeZone, Validator, schema};
use guardpost_shared::http::{Body, Problem, path_id};
use guardpost_shared::records::region;
use guardpost_shared::records::site::{Address, Site, SiteKind, SiteStatus};
use guardpost_shared::store::Condition;
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "update-site",
    method: "PATCH",
    path: "/v1/sites/{site_id}",
    access: Access::Requires(Permission::SITES_EDIT),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

/// Only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSiteRequest {
    #[schema(value_type = Option<schema::Name>)]
    pub name: Option<String>,
    /// Not for sub-sites, which stay in their master site's region.
    #[schema(value_type = Option<schema::Id>)]
    pub region_id: Option<String>,
    #[schema(value_type = Option<schema::TimeZoneName>)]
    pub time_zone: Option<String>,
    pub address: Option<Address>,
    pub status: Option<SiteStatus>,
}

#[utoipa::path(patch, path = "/v1/sites/{site_id}", tag = "sites", security(("bearer" = [])), request_body = UpdateSiteRequest,
    params(("site_id" = String, Path)),
    responses((status = 200, body = Site), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
    Body(req): Body<UpdateSiteRequest>,
) -> AppResult<Json<Site>> {
    let id = path_id(&site_id, "site", SiteId::parse)?;
    // The site the decision read, with its version: the write below is conditional on it.
    let granted = authorize(&state, &principal, Permission::SITES_EDIT, Resource::Site(id)).await?;
    let current = granted.into_site().ok_or(AppError::NotFound("site"))?;
    let mut v = Validator::new();
    let name = v.check_opt("name", req.name.as_deref().map(Name::parse));
    let time_zone = v.check_opt("time_zone", req.time_zone.as_deref().map(TimeZone::parse));
    let region_id = v.check_opt("region_id", req.region_id.as_deref().map(RegionId::parse));
    let address = req.address.as_ref().and_then(|a| Address::parse(a, "address", &mut v));
    v.finish()?;

    let mut site: Site = current.record;
    if let Some(region_id) = region_id {
        if site.parent_site_id.is_some() && region_id != site.region_id {
            return Err(AppError::invalid("region_id", "a sub-site stays in its master site's region"));
        }
        region::load(state.store.as_ref(), &principal.org, &region_id)
            .await
            .map_err(|_| AppError::invalid("region_id", "no such region"))?;
        // The count is kept on the master in the same transaction that adds a sub-site, and this
        // write is conditional on the version read: no sub-site can slip in meanwhile.
        // Moving a site between regions takes it out of one region's oversight and into
        // another's: the caller needs the right over both, not only over the site.
        if region_id != site.region_id {
            let over = |r| authorize(&state, &principal, Permission::SITES_EDIT, Resource::Region(r));
            tokio::try_join!(over(site.region_id), over(region_id))?;
        }
        if site.kind == SiteKind::Master && region_id != site.region_id && site.sub_site_count > 0 {
            return Err(AppError::conflict(
                "master-site-has-sub-sites",
                "A master site with sub-sites keeps its region: its sub-sites are in the same region.",
            ));
        }
        site.region_id = region_id;
    }
    if let Some(name) = name {
        site.name = name.into_inner();
    }
    if let Some(tz) = time_zone {
        site.time_zone = tz;
    }
    if address.is_some() {
        site.address = address;
    }
    if let Some(status) = req.status {
        site.status = status;
    }
    site.updated_at = state.now();
    state.store.put(site.item(&principal.org, current.version + 1)?, Condition::VersionIs(current.version)).await?;
    Ok(Json(site))
}
