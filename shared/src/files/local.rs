//! Files on the local server: the bytes live under a folder of the data directory, and the
//! upload and download URLs are the server's own (`PUT /files/{ticket}`, `GET /files/{ticket}`),
//! each carrying a ticket signed with HMAC-SHA-256 that names the key, the content type, the
//! exact size and the expiry, as S3's presigned URLs do. Nothing else can be read or written
//! there.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{DownloadLink, FileError, FileStore, MAX_BYTES, Stored, UploadTicket};
use crate::clock::Clock;
use crate::error::AppError;

#[derive(Clone)]
pub struct LocalFiles(Arc<Inner>);

struct Inner {
    dir: PathBuf,
    /// Where the server answers, e.g. `http://127.0.0.1:8080`.
    base_url: String,
    key: Vec<u8>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for LocalFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFiles").field("dir", &self.0.dir).finish_non_exhaustive()
    }
}

/// What a ticket allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Ticket {
    /// `put` or `get`.
    op: String,
    key: String,
    content_type: String,
    size: u64,
    filename: String,
    exp: i64,
}

/// What is kept beside the bytes.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    content_type: String,
    size: u64,
}

impl LocalFiles {
    /// `key` signs the tickets (at least 32 bytes).
    pub fn new(dir: PathBuf, base_url: impl Into<String>, key: Vec<u8>, clock: Arc<dyn Clock>) -> Self {
        Self(Arc::new(Inner { dir, base_url: base_url.into().trim_end_matches('/').to_owned(), key, clock }))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        #[allow(clippy::expect_used)]
        Hmac::<Sha256>::new_from_slice(&self.0.key).expect("HMAC accepts any key length")
    }

    fn sign(&self, ticket: &Ticket) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(ticket).unwrap_or_default());
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// The ticket, if its signature holds and it has not expired.
    fn open(&self, raw: &str, op: &str) -> Option<Ticket> {
        let (body, signature) = raw.split_once('.')?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).ok()?).ok()?;
        let ticket: Ticket = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        (ticket.op == op && ticket.exp > self.0.clock.now().timestamp()).then_some(ticket)
    }

    /// The file's path: keys are made by the server from ids (`org/users/id/id`), never from
    /// input, and are checked here again.
    fn path(&self, key: &str) -> Result<PathBuf, FileError> {
        let safe =
            key.split('/').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !safe {
            return Err(FileError::Unavailable(format!("not a file key: {key}")));
        }
        Ok(self.0.dir.join(key))
    }

    fn meta_path(path: &std::path::Path) -> PathBuf {
        path.with_extension("meta.json")
    }

    fn router(&self) -> axum::Router {
        axum::Router::new()
            .route("/files/{ticket}", axum::routing::put(put_file).get(get_file))
            // The server's usual body limit is far smaller than a file.
            .layer(DefaultBodyLimit::max(usize::try_from(MAX_BYTES).unwrap_or(usize::MAX) + 1))
            .with_state(self.clone())
    }
}

#[async_trait]
impl FileStore for LocalFiles {
    async fn upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_at: DateTime<Utc>,
    ) -> Result<UploadTicket, FileError> {
        self.path(key)?;
        let ticket = Ticket {
            op: "put".into(),
            key: key.into(),
            content_type: content_type.into(),
            size,
            filename: String::new(),
            exp: expires_at.timestamp(),
        };
        Ok(UploadTicket {
            method: "PUT",
            url: format!("{}/files/{}", self.0.base_url, self.sign(&ticket)),
            headers: vec![("content-type".into(), content_type.into())],
            expires_at,
        })
    }

    async fn download(&self, key: &str, filename: &str, expires_at: DateTime<Utc>) -> Result<DownloadLink, FileError> {
        self.path(key)?;
        let ticket = Ticket {
            op: "get".into(),
            key: key.into(),
            content_type: String::new(),
            size: 0,
            filename: filename.into(),
            exp: expires_at.timestamp(),
        };
        Ok(DownloadLink { url: format!("{}/files/{}", self.0.base_url, self.sign(&ticket)), expires_at })
    }

    async fn head(&self, key: &str) -> Result<Option<Stored>, FileError> {
        let path = self.path(key)?;
        match tokio::fs::read(Self::meta_path(&path)).await {
            Ok(raw) => {
                let meta: Meta = serde_json::from_slice(&raw).map_err(|e| FileError::Unavailable(e.to_string()))?;
                Ok(Some(Stored { size: meta.size, content_type: Some(meta.content_type) }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(FileError::Unavailable(e.to_string())),
        }
    }

    async fn remove(&self, key: &str) -> Result<(), FileError> {
        let path = self.path(key)?;
        for p in [Self::meta_path(&path), path] {
            match tokio::fs::remove_file(&p).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(FileError::Unavailable(e.to_string())),
            }
        }
        Ok(())
    }

    fn local_routes(&self) -> Option<axum::Router> {
        Some(self.router())
    }
}

fn refused(status: StatusCode, slug: &'static str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": format!("{}{slug}", crate::http::problem::PROBLEM_BASE),
        "title": "Refused", "status": status.as_u16(), "detail": detail,
    });
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}

/// `PUT /files/{ticket}`: stores the bytes if the ticket allows exactly these.
async fn put_file(
    State(files): State<LocalFiles>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(ticket) = files.open(&raw, "put") else {
        return refused(StatusCode::FORBIDDEN, "invalid-ticket", "this upload link is not valid or has expired");
    };
    let sent_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if sent_type != ticket.content_type {
        return refused(StatusCode::FORBIDDEN, "invalid-ticket", "the Content-Type differs from the one declared");
    }
    if body.len() as u64 != ticket.size {
        return refused(StatusCode::FORBIDDEN, "invalid-ticket", "the body is not the size declared");
    }
    let stored = async {
        let path = files.path(&ticket.key)?;
        let io = |e: std::io::Error| FileError::Unavailable(e.to_string());
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        // Written aside, then moved in: a reader never sees half a file.
        let partial = path.with_extension("partial");
        tokio::fs::write(&partial, &body).await.map_err(io)?;
        tokio::fs::rename(&partial, &path).await.map_err(io)?;
        let meta = Meta { content_type: ticket.content_type.clone(), size: ticket.size };
        tokio::fs::write(LocalFiles::meta_path(&path), serde_json::to_vec(&meta).unwrap_or_default()).await.map_err(io)
    };
    match stored.await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => AppError::from(e).into_response(),
    }
}

/// `GET /files/{ticket}`: the bytes, as an attachment.
async fn get_file(State(files): State<LocalFiles>, Path(raw): Path<String>) -> Response {
    let Some(ticket) = files.open(&raw, "get") else {
        return refused(StatusCode::FORBIDDEN, "invalid-ticket", "this download link is not valid or has expired");
    };
    let Ok(path) = files.path(&ticket.key) else {
        return AppError::NotFound("file").into_response();
    };
    let (Ok(bytes), Ok(Some(stored))) = (tokio::fs::read(&path).await, files.head(&ticket.key).await) else {
        return AppError::NotFound("file").into_response();
    };
    let filename: String =
        ticket.filename.chars().filter(|c| c.is_ascii_alphanumeric() || ".-_ ".contains(*c)).collect();
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Some(ct) = stored.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}
