//! Files in a private S3 bucket: upload and download URLs are presigned requests, made with the
//! function's own credentials (so the function needs `s3:PutObject` / `s3:GetObject` on the
//! bucket's objects, and nothing else). The upload URL signs the content type and the exact
//! length; what arrives is checked again when it is first read (`head`).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use chrono::{DateTime, Utc};

use super::{DownloadLink, FileError, FileStore, Stored, UploadTicket};

#[derive(Clone, Debug)]
pub struct S3Files {
    client: aws_sdk_s3::Client,
    bucket: String,
    now: fn() -> DateTime<Utc>,
}

impl S3Files {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into(), now: Utc::now }
    }

    /// The presigning window from now to `expires_at` (at least a second).
    fn window(&self, expires_at: DateTime<Utc>) -> Result<PresigningConfig, FileError> {
        let secs = (expires_at - (self.now)()).num_seconds().max(1);
        PresigningConfig::expires_in(Duration::from_secs(u64::try_from(secs).unwrap_or(1)))
            .map_err(|e| FileError::Unavailable(e.to_string()))
    }
}

fn unavailable(e: impl std::fmt::Display) -> FileError {
    FileError::Unavailable(e.to_string())
}

#[async_trait]
impl FileStore for S3Files {
    async fn upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_at: DateTime<Utc>,
    ) -> Result<UploadTicket, FileError> {
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(i64::try_from(size).unwrap_or(i64::MAX))
            .presigned(self.window(expires_at)?)
            .await
            .map_err(unavailable)?;
        let headers = presigned.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        Ok(UploadTicket { method: "PUT", url: presigned.uri().to_owned(), headers, expires_at })
    }

    async fn download(&self, key: &str, filename: &str, expires_at: DateTime<Utc>) -> Result<DownloadLink, FileError> {
        let filename: String = filename.chars().filter(|c| c.is_ascii_alphanumeric() || ".-_ ".contains(*c)).collect();
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(format!("attachment; filename=\"{filename}\""))
            .presigned(self.window(expires_at)?)
            .await
            .map_err(unavailable)?;
        Ok(DownloadLink { url: presigned.uri().to_owned(), expires_at })
    }

    async fn head(&self, key: &str) -> Result<Option<Stored>, FileError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(Stored {
                size: u64::try_from(out.content_length().unwrap_or_default()).unwrap_or_default(),
                content_type: out.content_type().map(str::to_owned),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(e))),
        }
    }

    async fn remove(&self, key: &str) -> Result<(), FileError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }
}
