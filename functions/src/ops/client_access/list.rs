//! `GET /v1/sites/{site_id}/client-accesses`: TrackTik's "Portal Access" tab: the site's client
//! accesses with name, email, phone, last login, the sub-sites each can see, access level and
//! status; paged, by client id.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{SiteId, schema};
use guardpost_shared::http::{PageParams, Paged, Params, Problem, path_id};
use guardpost_shared::records::client_access::{self, ClientAccess};
use guardpost_shared::records::keys;
use guardpost_shared::records::site::SiteKind;
use guardpost_shared::store::{Item, Query, read_page};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ClientAccessView, read_parts, role_names};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-client-accesses",
    method: "GET",
    path: "/v1/sites/{site_id}/client-accesses",
    access: Access::Requires(Permission::CLIENT_ACCESS_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/sites/{site_id}/client-accesses", tag = "client-access", security(("bearer" = [])),
    params(("site_id" = inline(schema::Id), Path), PageParams),
    responses((status = 200, body = Paged<ClientAccessView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
    Params(page): Params<PageParams>,
) -> AppResult<Json<Paged<ClientAccessView>>> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    let granted = authorize(&state, &principal, Permission::CLIENT_ACCESS_VIEW, Resource::Site(site_id)).await?;
    let site = granted.into_site().ok_or(AppError::NotFound("site"))?;
    let store = state.store.as_ref();
    let org = &principal.org;
    let query = Query::gsi1(keys::site_clients(org, &site_id)).limit(page.limit()?).after(page.cursor()?);
    let subs = async {
        match site.record.kind {
            SiteKind::Master => client_access::sub_sites(store, org, &site_id).await,
            SiteKind::Site => Ok(Vec::new()),
        }
    };
    let (result, subs) = tokio::try_join!(async { read_page(store, &query).await.map_err(AppError::from) }, subs)?;
    let records: Vec<ClientAccess> =
        result.items.iter().filter(|i| i.kind == client_access::KIND).map(Item::parse).collect::<Result<_, _>>()?;
    let ids: Vec<_> = records.iter().map(|r| r.id).collect();
    let parts = read_parts(store, org, &ids).await?;
    let role_ids: Vec<_> = records
        .iter()
        .filter_map(|r| parts.get(&r.id).and_then(|p| r.assignment(&p.access.record)).map(|a| a.role_id.clone()))
        .collect();
    let names = role_names(store, org, &role_ids).await?;
    let items = records
        .iter()
        .filter_map(|r| {
            let p = parts.get(&r.id)?;
            let name = r.assignment(&p.access.record).and_then(|a| names.get(&a.role_id).cloned());
            Some(ClientAccessView::new(r, p, name, &subs))
        })
        .collect();
    Ok(Json(Paged::from_page(&result, items)))
}
