use crate::domain::utc;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::OrgSlug;

pub const KIND: &str = "org";

/// An organisation (tenant): the security company.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Organisation {
    pub slug: OrgSlug,
    pub name: String,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    /// How many superusers the organisation has; kept in the transaction that sets or clears a
    /// flag, so the last one cannot be removed even by two admins at once.
    #[serde(default)]
    pub superusers: u32,
}
