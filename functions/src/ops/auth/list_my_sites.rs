//! `GET /v1/me/sites`: the sites the caller is assigned to, each with whether the caller is
//! clocked in or on a break there; for a client user, the sites their portal access reaches.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::http::Problem;
use guardpost_shared::records::client_access;
use guardpost_shared::records::keys;
use guardpost_shared::records::site::{self, Site};
use guardpost_shared::records::time_entry::{self, ClockState};
use guardpost_shared::records::user::SiteAssignment;
use guardpost_shared::records::user::UserKind;
use guardpost_shared::store::{MAX_BATCH_GET, Query, read_all};
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
    access: Access::Requires(Permission::SELF_READ),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MySites {
    pub items: Vec<MySite>,
}

/// A site the caller is assigned to, and whether they are clocked in there.
#[derive(Debug, Serialize, ToSchema)]
pub struct MySite {
    #[serde(flatten)]
    pub site: Site,
    pub clock: ClockStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockStatusKind {
    ClockedOut,
    ClockedIn,
    OnBreak,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClockStatus {
    pub status: ClockStatusKind,
    /// When the current state began (clock-in or break start).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub time_entry_id: Option<String>,
}

impl ClockStatus {
    fn at(site: &Site, clock: Option<&ClockState>) -> Self {
        match clock.map(|c| &c.entry).filter(|e| e.site_id == site.id) {
            Some(e) if e.on_break() => Self {
                status: ClockStatusKind::OnBreak,
                since: e.breaks.last().map(|b| b.start),
                time_entry_id: Some(e.id.to_string()),
            },
            Some(e) => Self {
                status: ClockStatusKind::ClockedIn,
                since: Some(e.clock_in),
                time_entry_id: Some(e.id.to_string()),
            },
            None => Self { status: ClockStatusKind::ClockedOut, since: None, time_entry_id: None },
        }
    }
}

/// Assignments are read from the caller's own partition, then the sites in one batch per 100.
#[utoipa::path(get, path = "/v1/me/sites", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = MySites), (status = 401, body = Problem)))]
pub async fn handler(State(state): State<AppState>, principal: Principal) -> AppResult<Json<MySites>> {
    if principal.user.kind == UserKind::Client {
        return client_sites(&state, &principal).await;
    }
    guardpost_shared::access::authorize_self(&state, &principal).await?;
    let query = Query::table(keys::user_items(&principal.org, &principal.user.id)).prefix(keys::SITE_ASSIGNMENT_PREFIX);
    let mut site_keys = Vec::new();
    for item in read_all(state.store.as_ref(), &query).await? {
        let assignment: SiteAssignment = item.parse()?;
        site_keys.push(keys::site(&principal.org, &assignment.site_id));
    }
    // The clock state rides along in the first batch.
    site_keys.insert(0, keys::clock_state(&principal.org, &principal.user.id));
    let mut sites = Vec::with_capacity(site_keys.len());
    let mut clock: Option<ClockState> = None;
    for chunk in site_keys.chunks(MAX_BATCH_GET) {
        for item in state.store.batch_get(chunk).await? {
            if item.kind == site::KIND {
                sites.push(item.parse::<Site>()?);
            } else if item.kind == time_entry::CLOCK_KIND {
                clock = Some(item.parse()?);
            }
        }
    }
    sites.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let items = sites.into_iter().map(|site| MySite { clock: ClockStatus::at(&site, clock.as_ref()), site }).collect();
    Ok(Json(MySites { items }))
}

/// A client user's sites: those their accesses reach (a master site with its sub-sites, less
/// the ones set to "No"); clients do not clock in.
async fn client_sites(state: &AppState, principal: &Principal) -> AppResult<Json<MySites>> {
    let store = state.store.as_ref();
    let (_, sites) = tokio::try_join!(
        guardpost_shared::access::authorize_self(state, principal),
        client_access::visible_sites(store, &principal.org, &principal.access, state.now())
    )?;
    let items = sites.into_iter().map(|site| MySite { clock: ClockStatus::at(&site, None), site }).collect();
    Ok(Json(MySites { items }))
}
