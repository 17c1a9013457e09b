//! Files kept for users (licences, certifications, pictures): the bytes never pass through an
//! operation. A client asks for an upload URL, sends the bytes there, and later asks for a
//! short-lived download URL. On AWS the URLs are S3 presigned requests (`s3`); locally they
//! point at the local server, which keeps the bytes under the data directory (`local`). Both
//! adapters sit behind [`FileStore`].

pub mod local;
#[cfg(feature = "aws")]
pub mod s3;

use crate::domain::utc;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{FileId, OrgSlug, UserId};

/// The largest file accepted.
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// The kinds of file accepted (PDF and web images).
pub const CONTENT_TYPES: &[&str] = &["application/pdf", "image/png", "image/jpeg", "image/webp"];

/// Where the bytes of a user's file are kept.
pub fn object_key(org: &OrgSlug, user: &UserId, file: &FileId) -> String {
    format!("{org}/users/{user}/{file}")
}

/// How to send the bytes: a `PUT` to `url` with `headers`, before `expires_at`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct UploadTicket {
    pub method: &'static str,
    pub url: String,
    /// Headers the request must carry exactly (they are part of the signature).
    pub headers: Vec<(String, String)>,
    #[serde(with = "utc")]
    pub expires_at: DateTime<Utc>,
}

/// A link to the bytes, valid until `expires_at`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DownloadLink {
    pub url: String,
    #[serde(with = "utc")]
    pub expires_at: DateTime<Utc>,
}

/// What is stored under a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub size: u64,
    pub content_type: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("file storage unavailable: {0}")]
    Unavailable(String),
}

impl From<FileError> for crate::AppError {
    fn from(e: FileError) -> Self {
        crate::AppError::Store(crate::store::StoreError::Unavailable(anyhow::anyhow!(e.to_string())))
    }
}

/// The file storage port.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// A URL to upload exactly `size` bytes of `content_type` under `key`, valid until
    /// `expires_at`.
    async fn upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_at: DateTime<Utc>,
    ) -> Result<UploadTicket, FileError>;
    /// A URL to download what is under `key` as an attachment named `filename`.
    async fn download(&self, key: &str, filename: &str, expires_at: DateTime<Utc>) -> Result<DownloadLink, FileError>;
    /// What is stored under `key`, if anything.
    async fn head(&self, key: &str) -> Result<Option<Stored>, FileError>;
    /// Removes what is under `key` (a refused upload).
    async fn remove(&self, key: &str) -> Result<(), FileError>;
    /// The routes that serve the URLs this store hands out, when the local server serves them.
    fn local_routes(&self) -> Option<axum::Router> {
        None
    }
}
