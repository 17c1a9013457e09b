//! Files kept for a user (SecurityTrax's "Files": licences, certifications; TrackTik's client
//! picture): what the file is, in the user's partition. The bytes are in the file store
//! (`crate::files`), under `files::object_key`.

use crate::domain::utc;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::keys;
use crate::domain::{FileId, OrgSlug, UserId};
use crate::error::AppError;
use crate::store::Item;

pub const KIND: &str = "user-file";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Licence,
    Certification,
    Picture,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Waiting for its bytes.
    Pending,
    /// Uploaded as declared.
    Available,
    /// What arrived was not what was declared (size or type); it was removed.
    Refused,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserFile {
    #[schema(value_type = String)]
    pub id: FileId,
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub kind: FileKind,
    /// The file's name, for downloads.
    pub name: String,
    pub content_type: String,
    /// Bytes, as declared.
    pub size: u64,
    /// When a licence or certification stops being valid.
    pub expires_on: Option<NaiveDate>,
    pub status: FileStatus,
    #[serde(default, with = "utc::option")]
    pub uploaded_at: Option<DateTime<Utc>>,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub created_by: UserId,
}

impl UserFile {
    pub fn item(&self, org: &OrgSlug, version: u64) -> Result<Item, AppError> {
        let mut item = super::item(keys::user_file(org, &self.user_id, &self.id), KIND, self)?;
        item.version = version;
        Ok(item)
    }
}
