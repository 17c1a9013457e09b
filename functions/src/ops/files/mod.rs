//! Files on a user: licences, certifications, pictures. The bytes go straight to the file store
//! through an upload URL (S3 presigned on AWS, the local server locally) and come back through a
//! short-lived download URL; the operations only keep what each file is.

pub mod create;
pub mod get;
pub mod list;

use chrono::{DateTime, Utc};
use guardpost_shared::access::{Permission, authorize_self};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::UserId;
use guardpost_shared::records::file::UserFile;
use guardpost_shared::{AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ops::users::authorize_user;

/// A file as listed: whether a licence or certification has expired.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    #[serde(flatten)]
    pub file: UserFile,
    /// Its `expires_on` has passed.
    pub expired: bool,
}

impl FileView {
    pub fn new(file: UserFile, now: DateTime<Utc>) -> Self {
        let expired = file.expires_on.is_some_and(|d| d < now.date_naive());
        Self { file, expired }
    }
}

/// One's own files are one's own; someone else's need `employee` (employees, through their
/// sites) or `client` (a client user, over the site of their access).
pub(crate) async fn authorize_files(
    state: &AppState,
    principal: &Principal,
    id: &UserId,
    employee: Permission,
    client: Permission,
) -> AppResult<()> {
    if *id == principal.user.id {
        authorize_self(state, principal).await?;
    } else {
        authorize_user(state, principal, id, employee, client).await?;
    }
    Ok(())
}
