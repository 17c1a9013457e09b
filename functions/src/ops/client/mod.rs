//! The client portal's screens (ClickTime's per-screen View and Maintain; TrackTik's client
//! dashboard): what a client user sees of the sites their access reaches, each screen behind its
//! client permission. Views are client-shaped: the guards' names and times, nothing internal (no
//! user ids of staff, notes or locations). A site the client cannot see answers "not found".

pub mod approve_timesheet;
pub mod on_site;
pub mod schedule;
pub mod timesheets;

use std::collections::HashMap;

use guardpost_shared::AppResult;
use guardpost_shared::domain::{OrgSlug, UserId};
use guardpost_shared::records::keys;
use guardpost_shared::records::user::{self, User};
use guardpost_shared::store::{MAX_BATCH_GET, Store};
use serde::Serialize;
use utoipa::ToSchema;

/// A person as a client sees them: a name.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PersonName {
    pub first_name: String,
    pub last_name: String,
}

/// The names of these users (one batch get per 100).
pub(crate) async fn names(store: &dyn Store, org: &OrgSlug, ids: &[UserId]) -> AppResult<HashMap<UserId, PersonName>> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    let mut out = HashMap::new();
    for chunk in ids.chunks(MAX_BATCH_GET) {
        let wanted: Vec<_> = chunk.iter().map(|id| keys::user(org, id)).collect();
        for item in store.batch_get(&wanted).await? {
            if item.kind == user::KIND {
                let u: User = item.parse()?;
                out.insert(u.id, PersonName { first_name: u.first_name, last_name: u.last_name });
            }
        }
    }
    Ok(out)
}
