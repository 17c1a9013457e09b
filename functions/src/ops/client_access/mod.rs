//! Client portal access (TrackTik's "Client Portal Access", ClickTime's client users): a
//! supervisor or manager of a site gives a client a login to the client portal for that site
//! (a master site: with its sub-sites, each of which can be set to "No"), edits it, revokes it,
//! and deletes it. The record and what it is read from: `shared::records::client_access`.

pub mod create;
pub mod delete;
pub mod get;
pub mod get_sub_sites;
pub mod list;
pub mod resend_invitation;
pub mod set_sub_sites;
pub mod update;
mod view;

use std::collections::HashMap;

use guardpost_shared::access::{Granted, Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{OrgSlug, RoleId, UserId};
use guardpost_shared::http::path_id;
use guardpost_shared::records::client_access::{self, ClientAccess};
use guardpost_shared::records::role::{self, UserAccess};
use guardpost_shared::records::site::SiteKind;
use guardpost_shared::records::user::{self, Credential, User};
use guardpost_shared::records::{Versioned, keys};
use guardpost_shared::store::{MAX_BATCH_GET, Store};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use view::{ClientAccessView, SubSiteVisibility};

/// TrackTik's "Status: Grant or revoke client access". Revoked: the client user is inactive, so
/// their sessions end on the next request; the access is kept and can be made active again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientAccessStatus {
    Active,
    Revoked,
}

/// Finds the client access named in the path and decides the permission over its site. An id
/// that is malformed, of another organisation, or of a site the caller cannot see answers the
/// same "not found".
pub(crate) async fn locate(
    state: &AppState,
    principal: &Principal,
    raw_id: &str,
    permission: Permission,
) -> AppResult<(Versioned<ClientAccess>, Granted)> {
    let id = path_id(raw_id, "client access", UserId::parse)?;
    let record = client_access::load(state.store.as_ref(), &principal.org, &id).await?;
    let granted =
        authorize(state, principal, permission, Resource::Site(record.record.site_id)).await.map_err(|e| match e {
            AppError::NotFound(_) => AppError::NotFound("client access"),
            other => other,
        })?;
    Ok((record, granted))
}

/// What a client access is read from, besides its record.
#[derive(Clone, Debug)]
pub(crate) struct Parts {
    pub user: Versioned<User>,
    pub access: Versioned<UserAccess>,
    pub credential: Option<Versioned<Credential>>,
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Reads the parts of these client users: four items each, in batches.
pub(crate) async fn read_parts(store: &dyn Store, org: &OrgSlug, ids: &[UserId]) -> AppResult<HashMap<UserId, Parts>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(MAX_BATCH_GET / 4) {
        let mut wanted = Vec::with_capacity(chunk.len() * 4);
        for id in chunk {
            wanted.extend([
                keys::user(org, id),
                keys::user_access(org, id),
                keys::credential(org, id),
                keys::last_login(org, id),
            ]);
        }
        let items = store.batch_get(&wanted).await?;
        for (n, id) in chunk.iter().enumerate() {
            let at = |i: usize| items.iter().find(|it| it.key == wanted[n * 4 + i]);
            let Some(u) = at(0) else { continue };
            let user = Versioned { record: u.parse::<User>()?, version: u.version };
            let access = match at(1) {
                Some(a) => Versioned { record: a.parse::<UserAccess>()?, version: a.version },
                None => Versioned { record: UserAccess::default(), version: 0 },
            };
            let credential =
                at(2).map(|c| c.parse::<Credential>().map(|record| Versioned { record, version: c.version }));
            let last_login_at = at(3).map(|l| l.parse::<user::LastLogin>().map(|l| l.at)).transpose()?;
            out.insert(*id, Parts { user, access, credential: credential.transpose()?, last_login_at });
        }
    }
    Ok(out)
}

/// The names of these roles (one batch get).
pub(crate) async fn role_names(store: &dyn Store, org: &OrgSlug, ids: &[RoleId]) -> AppResult<HashMap<RoleId, String>> {
    let mut wanted: Vec<_> = ids.iter().map(|id| keys::role(org, id)).collect();
    wanted.sort();
    wanted.dedup();
    let mut out = HashMap::new();
    for chunk in wanted.chunks(MAX_BATCH_GET) {
        for item in store.batch_get(chunk).await? {
            if item.kind == role::KIND {
                let r: role::Role = item.parse()?;
                out.insert(r.id, r.name);
            }
        }
    }
    Ok(out)
}

/// A client-portal role of the organisation, for the `role_id` field (422 otherwise), from the
/// role's item as read (none: no such role).
pub(crate) fn client_role(item: Option<&guardpost_shared::store::Item>) -> AppResult<role::Role> {
    let invalid = || AppError::invalid("role_id", "no such client portal role in this organisation");
    let role: role::Role = item.filter(|i| i.kind == role::KIND).ok_or_else(invalid)?.parse()?;
    if role.portal != guardpost_shared::access::catalogue::Portal::Client {
        return Err(AppError::invalid("role_id", "must be a role of the client portal"));
    }
    Ok(role)
}

/// [`client_role`], read.
pub(crate) async fn read_client_role(store: &dyn Store, org: &OrgSlug, raw: &str) -> AppResult<role::Role> {
    match RoleId::parse(raw) {
        Ok(id) => client_role(store.get(&keys::role(org, &id)).await?.as_ref()),
        Err(_) => client_role(None),
    }
}

/// The view of one access, read fresh: its parts, its role's name and, for a master site, the
/// sub-sites (the site itself comes from the decision that allowed the request).
pub(crate) async fn shown(
    state: &AppState,
    org: &OrgSlug,
    record: &ClientAccess,
    granted: Granted,
) -> AppResult<ClientAccessView> {
    let store = state.store.as_ref();
    let site = granted.into_site().ok_or(AppError::NotFound("client access"))?;
    let subs = async {
        match site.record.kind {
            SiteKind::Master => client_access::sub_sites(store, org, &site.record.id).await,
            SiteKind::Site => Ok(Vec::new()),
        }
    };
    let ids = [record.id];
    let (mut parts, subs) = tokio::try_join!(read_parts(store, org, &ids), subs)?;
    let parts = parts.remove(&record.id).ok_or(AppError::NotFound("client access"))?;
    let role_id = record.assignment(&parts.access.record).map(|a| a.role_id.clone());
    let names = role_names(store, org, role_id.as_slice()).await?;
    let name = role_id.and_then(|r| names.get(&r).cloned());
    Ok(ClientAccessView::new(record, &parts, name, &subs))
}

/// The sub-sites of the access's site (none for a plain site), the client's access item, and
/// the sub-sites its assignment hides.
pub(crate) async fn master_and_hidden(
    state: &AppState,
    org: &OrgSlug,
    record: &ClientAccess,
    granted: Granted,
) -> AppResult<(Vec<guardpost_shared::records::site::Site>, Versioned<UserAccess>, Vec<guardpost_shared::domain::SiteId>)>
{
    let store = state.store.as_ref();
    let site = granted.into_site().ok_or(AppError::NotFound("client access"))?;
    let subs = async {
        match site.record.kind {
            SiteKind::Master => client_access::sub_sites(store, org, &site.record.id).await,
            SiteKind::Site => Ok(Vec::new()),
        }
    };
    let access = async { role::load_access(store, org, &record.id).await };
    let (subs, access) = tokio::try_join!(subs, access)?;
    let hidden = record.assignment(&access.record).map(|a| a.hidden_sites.clone()).unwrap_or_default();
    Ok((subs, access, hidden))
}
