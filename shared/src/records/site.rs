use crate::domain::utc;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{RegionId, SiteId, TimeZone, schema};

pub const KIND: &str = "site";

/// A plain site, a master site (a multi-site client such as a mall) or a sub-site of a master
/// site (one level deep: `parent_site_id` is set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    Site,
    Master,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SiteStatus {
    Active,
    Inactive,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[schema(value_type = schema::Line)]
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<schema::ShortText>)]
    pub line2: Option<String>,
    #[schema(value_type = schema::Name)]
    pub city: String,
    /// State, province or county.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<schema::Text100>)]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<schema::Text20>)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(value_type = schema::Country)]
    pub country: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Site {
    #[schema(value_type = String)]
    pub id: SiteId,
    pub name: String,
    pub kind: SiteKind,
    #[schema(value_type = String)]
    pub region_id: RegionId,
    /// Set on a sub-site: the master site it belongs to.
    #[schema(value_type = Option<String>)]
    pub parent_site_id: Option<SiteId>,
    /// On a master site: how many sub-sites it has (kept in the same transaction that adds
    /// one, so decisions about the master read it consistently).
    #[serde(default)]
    pub sub_site_count: u32,
    /// IANA time zone name.
    #[schema(value_type = String, example = "America/Toronto")]
    pub time_zone: TimeZone,
    pub address: Option<Address>,
    pub status: SiteStatus,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "utc")]
    pub updated_at: DateTime<Utc>,
}

/// Reads a site of the organisation, or "not found".
pub async fn load(
    store: &dyn crate::store::Store,
    org: &crate::domain::OrgSlug,
    id: &SiteId,
) -> Result<super::Versioned<Site>, crate::AppError> {
    super::get(store, &super::keys::site(org, id)).await?.ok_or(crate::AppError::NotFound("site"))
}

impl Site {
    pub fn item(&self, org: &crate::domain::OrgSlug, version: u64) -> Result<crate::store::Item, crate::AppError> {
        let mut item = super::item(super::keys::site(org, &self.id), KIND, self)?.with_gsi2(
            crate::store::IndexKey::new(super::keys::region_sites(org, &self.region_id), self.id.to_string()),
        );
        if let Some(parent) = &self.parent_site_id {
            item =
                item.with_gsi1(crate::store::IndexKey::new(super::keys::sub_sites(org, parent), self.id.to_string()));
        }
        item.version = version;
        Ok(item)
    }
}

impl Address {
    /// Trims and checks an address given by a client; errors are recorded under `field`.
    pub fn parse(input: &Address, field: &str, v: &mut crate::domain::Validator) -> Option<Address> {
        use crate::domain::{BoundedText, ShortText};
        type Line = BoundedText<1, 200>;
        let line1 = v.check(&format!("{field}.line1"), Line::parse(&input.line1));
        let line2 = v.check_opt(&format!("{field}.line2"), input.line2.as_deref().map(ShortText::parse));
        let city = v.check(&format!("{field}.city"), BoundedText::<1, 100>::parse(&input.city));
        let region = v.check_opt(&format!("{field}.region"), input.region.as_deref().map(BoundedText::<0, 100>::parse));
        let postal_code =
            v.check_opt(&format!("{field}.postal_code"), input.postal_code.as_deref().map(BoundedText::<0, 20>::parse));
        let country = input.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            v.fail(&format!("{field}.country"), "must be an ISO 3166-1 alpha-2 country code, e.g. CA");
        }
        Some(Address {
            line1: line1?.into_inner(),
            line2: line2.map(|s| s.into_inner()).filter(|s| !s.is_empty()),
            city: city?.into_inner(),
            region: region.map(|s| s.into_inner()).filter(|s| !s.is_empty()),
            postal_code: postal_code.map(|s| s.into_inner()).filter(|s| !s.is_empty()),
            country,
        })
    }
}
