use crate::domain::utc;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{SessionId, UserId};

pub const KIND: &str = "session";

/// A login session. The refresh token's secret is stored only as a SHA-256 hash; hashes of
/// rotated tokens are kept so that a replayed old token is recognised and ends the session.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "utc")]
    pub expires_at: DateTime<Utc>,
    #[serde(with = "utc")]
    pub refreshed_at: DateTime<Utc>,
    pub refresh_hash: String,
    #[serde(default)]
    pub previous_hashes: Vec<String>,
    #[serde(default, with = "utc::option")]
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Started by a user who must change their password: the session may do nothing else
    /// (`POST /v1/me/password`). Sessions from before the flag existed read as full ones.
    #[serde(default)]
    pub password_change_only: bool,
    /// The user's session epoch when the session started (see `User::session_epoch`).
    #[serde(default)]
    pub epoch: u32,
}

impl Session {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}
