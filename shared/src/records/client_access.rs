//! Client portal access (TrackTik's "Client Portal Access"): a client user of the organisation,
//! given a client-portal role over one site. A master site brings its sub-sites, except those
//! set to "No" (the assignment's hidden sites). The client user is a user like any other
//! (sessions, login activity, access control); this record ties them to the site that gave the
//! access and lists them under it (GSI1), so a site's accesses are one partition.
//!
//! What the access is, is read from its parts: names, phone, email and status from the user
//! (revoked = inactive), the role and the hidden sub-sites from the assignment, the invitation
//! from the credential. Nothing is kept twice.

use crate::domain::utc;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::role::{Assignment, UserAccess, Validity};
use super::site::{self, Site, SiteKind};
use super::{Versioned, keys};
use crate::domain::{AssignmentId, OrgSlug, SiteId, UserId};
use crate::error::AppError;
use crate::store::{Item, MAX_BATCH_GET, Query, Store, read_all};

pub const KIND: &str = "client-access";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAccess {
    /// The client user's id, which is also the access's id.
    pub id: UserId,
    pub site_id: SiteId,
    /// The client user's assignment of the chosen role over the site.
    pub assignment_id: AssignmentId,
    /// When the last invitation was asked for (none: a password was set at creation).
    #[serde(default, with = "utc::option")]
    pub invited_at: Option<DateTime<Utc>>,
    /// TrackTik's optional picture of the client: a file of the client user.
    #[serde(default)]
    pub picture_file_id: Option<crate::domain::FileId>,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    pub created_by: UserId,
}

impl ClientAccess {
    pub fn item(&self, org: &OrgSlug, version: u64) -> Result<Item, AppError> {
        let mut item = super::item(keys::client_access(org, &self.id), KIND, self)?.with_gsi1(keys::site_client_index(
            org,
            &self.site_id,
            &self.id,
        ));
        item.version = version;
        Ok(item)
    }

    /// The assignment this access gave, among the user's.
    pub fn assignment<'a>(&self, access: &'a UserAccess) -> Option<&'a Assignment> {
        access.assignments.iter().find(|a| a.id == self.assignment_id)
    }
}

/// Reads a client access, or "not found".
pub async fn load(store: &dyn Store, org: &OrgSlug, id: &UserId) -> Result<Versioned<ClientAccess>, AppError> {
    super::get(store, &keys::client_access(org, id)).await?.ok_or(AppError::NotFound("client access"))
}

/// The sub-sites of a master site (GSI1), by id.
pub async fn sub_sites(store: &dyn Store, org: &OrgSlug, master: &SiteId) -> Result<Vec<Site>, AppError> {
    let items = read_all(store, &Query::gsi1(keys::sub_sites(org, master))).await?;
    Ok(items.iter().filter(|i| i.kind == site::KIND).map(Item::parse).collect::<Result<_, _>>()?)
}

/// The sites a client user's in-effect site assignments reach: each assigned site and, for a
/// master site, its sub-sites except the hidden ones. Sorted by name.
pub async fn visible_sites(
    store: &dyn Store,
    org: &OrgSlug,
    access: &UserAccess,
    now: DateTime<Utc>,
) -> Result<Vec<Site>, AppError> {
    let reaching: Vec<&Assignment> = access
        .assignments
        .iter()
        .filter(|a| a.validity(now) == Validity::InEffect)
        .filter(|a| matches!(a.scope, super::role::Scope::Site(_)))
        .collect();
    let mut anchors = Vec::new();
    for a in &reaching {
        if let super::role::Scope::Site(id) = a.scope
            && !anchors.contains(&id)
        {
            anchors.push(id);
        }
    }
    let mut sites: Vec<Site> = Vec::new();
    for chunk in anchors.chunks(MAX_BATCH_GET) {
        let wanted: Vec<_> = chunk.iter().map(|id| keys::site(org, id)).collect();
        for item in store.batch_get(&wanted).await? {
            if item.kind == site::KIND {
                sites.push(item.parse()?);
            }
        }
    }
    let masters: Vec<SiteId> = sites.iter().filter(|s| s.kind == SiteKind::Master).map(|s| s.id).collect();
    let subs = futures::future::try_join_all(masters.iter().map(|m| sub_sites(store, org, m))).await?;
    for sub in subs.into_iter().flatten() {
        // A master's assignment reaches its sub-sites unless it hides them.
        let shown = reaching.iter().any(|a| {
            a.scope == super::role::Scope::Site(sub.parent_site_id.unwrap_or(sub.id))
                && !a.hidden_sites.contains(&sub.id)
        });
        if shown && !sites.iter().any(|s| s.id == sub.id) {
            sites.push(sub);
        }
    }
    sites.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(sites)
}
