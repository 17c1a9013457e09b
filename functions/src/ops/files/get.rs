//! `GET /v1/users/{user_id}/files/{file_id}`: a file and a download URL valid for 5 minutes.
//! The first read after the upload checks what arrived against what was declared: the same type
//! and size make the file available; anything else is removed and the file refused. Before the
//! bytes arrive it answers `409 upload-pending`.

use axum::Json;
use axum::extract::{Path, State};
use chrono::Duration;
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{FileId, UserId};
use guardpost_shared::files::{self, DownloadLink};
use guardpost_shared::http::{Problem, path_id};
use guardpost_shared::records::file::{FileStatus, UserFile};
use guardpost_shared::records::{get, keys};
use guardpost_shared::store::{Condition, StoreError};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{FileView, authorize_files};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "get-user-file",
    method: "GET",
    path: "/v1/users/{user_id}/files/{file_id}",
    access: Access::Requires(Permission::EMPLOYEES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

/// How long a download URL works.
const DOWNLOAD_MINUTES: i64 = 5;

#[derive(Debug, Serialize, ToSchema)]
pub struct FileDownload {
    pub file: FileView,
    pub download: DownloadLink,
}

#[utoipa::path(get, path = "/v1/users/{user_id}/files/{file_id}", tag = "employees", security(("bearer" = [])),
    params(("user_id" = String, Path), ("file_id" = String, Path)),
    responses((status = 200, body = FileDownload), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Not uploaded yet, or what arrived was refused", body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path((user_id, file_id)): Path<(String, String)>,
) -> AppResult<Json<FileDownload>> {
    let id = path_id(&user_id, "user", UserId::parse)?;
    let file_id = path_id(&file_id, "file", FileId::parse)?;
    authorize_files(&state, &principal, &id, Permission::EMPLOYEES_VIEW, Permission::CLIENT_ACCESS_VIEW, false).await?;
    let org = &principal.org;
    let found = get::<UserFile>(state.store.as_ref(), &keys::user_file(org, &id, &file_id))
        .await?
        .ok_or(AppError::NotFound("file"))?;
    let key = files::object_key(org, &id, &file_id);
    let mut file = found.record;
    let now = state.now();
    if file.status == FileStatus::Pending {
        let Some(stored) = state.files.head(&key).await? else {
            return Err(AppError::conflict("upload-pending", "the file's bytes have not arrived yet"));
        };
        let as_declared =
            stored.size == file.size && stored.content_type.as_deref().is_none_or(|t| t == file.content_type);
        if as_declared {
            file.status = FileStatus::Available;
            file.uploaded_at = Some(now);
        } else {
            file.status = FileStatus::Refused;
        }
        match state.store.put(file.item(org, found.version + 1)?, Condition::VersionIs(found.version)).await {
            // Someone else checked it at the same moment: the same outcome.
            Ok(()) | Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
        // Recorded as refused first, then removed: a failure in between leaves bytes nobody
        // can download, never a file that waits for ever.
        if file.status == FileStatus::Refused {
            state.files.remove(&key).await?;
        }
    }
    if file.status == FileStatus::Refused {
        return Err(AppError::conflict(
            "upload-refused",
            "what was uploaded was not the declared type or size; upload it again",
        ));
    }
    let download = state.files.download(&key, &file.name, now + Duration::minutes(DOWNLOAD_MINUTES)).await?;
    Ok(Json(FileDownload { file: FileView::new(file, now), download }))
}
