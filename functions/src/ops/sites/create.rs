//! `POST /v1/sites`: a plain site, a master site, or a sub-site of a master site (which takes
//! its master's region).

use axum::extract::State;
use axum::response::Response;
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{Name, RegionId, SiteId, TimeZone, Validator, schema};
use guardpost_shared::http::{Body, Created, Problem, idempotency};
use guardpost_shared::records::site::{Address, Site, SiteKind, SiteStatus};
use guardpost_shared::records::{Tx, get, keys, region};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "create-site",
    method: "POST",
    path: "/v1/sites",
    access: Access::Requires(Permission::SITES_CREATE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSiteRequest {
    #[schema(value_type = schema::Name)]
    pub name: String,
    /// `site` (default) or `master` (a multi-site client whose sub-sites name it as parent).
    pub kind: Option<SiteKind>,
    /// Required unless `parent_site_id` is given.
    #[schema(value_type = Option<schema::Id>)]
    pub region_id: Option<String>,
    /// Makes this a sub-site of that master site.
    #[schema(value_type = Option<schema::Id>)]
    pub parent_site_id: Option<String>,
    /// IANA time zone, e.g. `America/Toronto`.
    #[schema(value_type = schema::TimeZoneName)]
    pub time_zone: String,
    pub address: Option<Address>,
    /// Default `active`.
    pub status: Option<SiteStatus>,
}

#[utoipa::path(post, path = "/v1/sites", tag = "sites", security(("bearer" = [])), request_body = CreateSiteRequest,
    responses((status = 201, body = Site), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Body(req): Body<CreateSiteRequest>,
) -> AppResult<Response> {
    authorize(&state, &principal, Permission::SITES_CREATE, Resource::Organisation).await?;
    let mut v = Validator::new();
    let name = v.check("name", Name::parse(&req.name));
    let time_zone = v.check("time_zone", TimeZone::parse(&req.time_zone));
    let region_id = v.check_opt("region_id", req.region_id.as_deref().map(RegionId::parse));
    let parent_id = v.check_opt("parent_site_id", req.parent_site_id.as_deref().map(SiteId::parse));
    let address = req.address.as_ref().and_then(|a| Address::parse(a, "address", &mut v));
    let kind = req.kind.unwrap_or(SiteKind::Site);
    v.finish()?;

    let org = &principal.org;
    let mut master = None;
    let region_id = match (parent_id, region_id) {
        (Some(parent_id), region_id) => {
            let read = get::<Site>(state.store.as_ref(), &keys::site(org, &parent_id)).await?;
            let read = read.ok_or_else(|| AppError::invalid("parent_site_id", "no such site"))?;
            let parent = read.record.clone();
            master = Some(read);
            if parent.kind != SiteKind::Master {
                return Err(AppError::invalid(
                    "parent_site_id",
                    "is not a master site; only master sites have sub-sites",
                ));
            }
            if kind == SiteKind::Master {
                return Err(AppError::invalid("kind", "a sub-site cannot itself be a master site (one level deep)"));
            }
            if region_id.is_some_and(|r| r != parent.region_id) {
                return Err(AppError::invalid("region_id", "a sub-site is in its master site's region; leave it out"));
            }
            parent.region_id
        }
        (None, Some(region_id)) => {
            region::load(state.store.as_ref(), org, &region_id)
                .await
                .map_err(|_| AppError::invalid("region_id", "no such region"))?;
            region_id
        }
        (None, None) => return Err(AppError::invalid("region_id", "required (or give parent_site_id)")),
    };
    let (Some(name), Some(time_zone)) = (name, time_zone) else {
        return Err(AppError::Internal(anyhow::anyhow!("validated field missing")));
    };
    let now = state.now();
    let site = Site {
        id: SiteId::from_ulid(state.new_ulid()),
        name: name.into_inner(),
        kind,
        region_id,
        parent_site_id: parent_id,
        sub_site_count: 0,
        time_zone,
        address,
        status: req.status.unwrap_or(SiteStatus::Active),
        created_at: now,
        updated_at: now,
    };
    let mut tx = Tx::new();
    tx.push_plain(TxOp::put(site.item(org, 1)?, Condition::NotExists));
    if let Some(master) = master {
        // The master counts its sub-sites, written against the version read: a concurrent
        // change of the master (a region move) and this sub-site cannot both succeed.
        let mut counted = master.record;
        counted.sub_site_count += 1;
        tx.push_plain(TxOp::put(counted.item(org, master.version + 1)?, Condition::VersionIs(master.version)));
    }
    let (id, kind) = (site.id, site.kind);
    let answer = idempotency::commit(tx, state.store.as_ref(), Created(site)).await?;
    tracing::info!(site = %id, ?kind, "site created");
    Ok(answer)
}
