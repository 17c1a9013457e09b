//! `GET /v1/me/sites`: the sites the caller is assigned to.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::http::Problem;
use guardpost_shared::records::keys;
use guardpost_shared::records::site::{self, Site};
use guardpost_shared::records::user::SiteAssignment;
use guardpost_shared::store::{MAX_BATCH_GET, Query, read_page};
use guardpost_shared::{AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-my-sites",
    method: "GET",
    path: "/v1/me/sites",
    access: Access::Requires(Permission::SelfRead),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MySites {
    pub items: Vec<Site>,
}

/// Assignments are read from the caller's own partition, then the sites in one batch per 100.
#[utoipa::path(get, path = "/v1/me/sites", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = MySites), (status = 401, body = Problem)))]
pub async fn handler(State(state): State<AppState>, principal: Principal) -> AppResult<Json<MySites>> {
    let mut query = Query::table(keys::user_items(&principal.org, &principal.user.id))
        .prefix(keys::SITE_ASSIGNMENT_PREFIX)
        .limit(1000);
    let mut site_keys = Vec::new();
    loop {
        let page = read_page(state.store.as_ref(), &query).await?;
        for item in &page.items {
            let assignment: SiteAssignment = item.parse()?;
            site_keys.push(keys::site(&principal.org, &assignment.site_id));
        }
        match page.cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    let mut sites = Vec::with_capacity(site_keys.len());
    for chunk in site_keys.chunks(MAX_BATCH_GET) {
        for item in state.store.batch_get(chunk).await? {
            if item.kind == site::KIND {
                sites.push(item.parse::<Site>()?);
            }
        }
    }
    sites.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(Json(MySites { items: sites }))
}
