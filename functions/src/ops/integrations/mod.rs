//! Integration users (service accounts): they call the API with a client id and secret
//! (`POST /v1/auth/token`), and only while one of their roles grants API access from their
//! address. The secret is shown once and stored as a SHA-256 hash (it is 256 random bits, so a
//! slow hash adds nothing); rotating it ends every token issued with the old one.

pub mod create;
pub mod rotate_secret;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use guardpost_shared::auth::tokens::hash_secret;
use guardpost_shared::domain::utc;
use guardpost_shared::domain::{OrgSlug, UserId};
use guardpost_shared::records::{item, keys};
use guardpost_shared::store::Item;
use guardpost_shared::{AppError, AppState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const SECRET_KIND: &str = "client-secret";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClientSecret {
    pub secret_hash: String,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
}

/// The credentials, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationCredentials {
    pub user_id: String,
    pub client_id: String,
    /// Shown only in this answer; store it in a secret manager.
    pub client_secret: String,
}

pub fn client_id(org: &OrgSlug, user: &UserId) -> String {
    format!("{org}.{user}")
}

/// A fresh secret and the item holding its hash.
pub fn new_secret(state: &AppState, org: &OrgSlug, user: &UserId, version: u64) -> Result<(String, Item), AppError> {
    let secret = URL_SAFE_NO_PAD.encode(state.random.bytes(32));
    let record = ClientSecret { secret_hash: hash_secret(&secret), created_at: state.now() };
    let mut item = item(keys::client_secret(org, user), SECRET_KIND, &record)?;
    item.version = version;
    Ok((secret, item))
}
