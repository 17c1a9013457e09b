use crate::domain::utc;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::RegionId;

pub const KIND: &str = "region";

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Region {
    #[schema(value_type = String)]
    pub id: RegionId,
    pub name: String,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
}

pub async fn load(
    store: &dyn crate::store::Store,
    org: &crate::domain::OrgSlug,
    id: &RegionId,
) -> Result<Region, crate::AppError> {
    Ok(super::get(store, &super::keys::region(org, id)).await?.ok_or(crate::AppError::NotFound("region"))?.record)
}
