//! `POST /v1/users/{user_id}/files`: declares a file (kind, name, content type from the allow
//! list, size up to 10 MB, optional expiry) and answers where to upload its bytes: a `PUT` to a
//! URL valid for 15 minutes that accepts exactly the declared type and size. One's own files, or
//! a manager's in scope (`employees:modify`, `client-access:edit` for a client's picture).

use axum::extract::{Path, State};
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{Day, UserId, Validator};
use guardpost_shared::files::UploadTicket;
use guardpost_shared::http::{Body, Created, Problem, path_id};
use guardpost_shared::records::file::FileKind;
use guardpost_shared::store::Condition;
use guardpost_shared::{AppError, AppResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Declared, FileContentType, FileName, FileView, authorize_files, check_declared, pending, ticket};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "create-user-file",
    method: "POST",
    path: "/v1/users/{user_id}/files",
    access: Access::Requires(Permission::EMPLOYEES_MODIFY),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFile {
    pub kind: FileKind,
    /// The file's name, e.g. `security-licence.pdf`.
    #[schema(value_type = FileName)]
    pub name: String,
    /// `application/pdf`, `image/png`, `image/jpeg` or `image/webp`.
    #[schema(value_type = FileContentType)]
    pub content_type: String,
    /// Bytes: 1 to 10,485,760.
    #[schema(minimum = 1, maximum = 10485760)]
    #[serde(deserialize_with = "guardpost_shared::http::number::whole_number")]
    pub size: u64,
    /// When a licence or certification stops being valid.
    #[schema(value_type = Option<Day>)]
    pub expires_on: Option<Day>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileUpload {
    pub file: FileView,
    /// Send the bytes here.
    pub upload: UploadTicket,
}

#[utoipa::path(post, path = "/v1/users/{user_id}/files", tag = "employees", security(("bearer" = [])), request_body = NewFile,
    params(("user_id" = String, Path)),
    responses((status = 201, body = FileUpload), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<String>,
    Body(req): Body<NewFile>,
) -> AppResult<Created<FileUpload>> {
    let id = path_id(&user_id, "user", UserId::parse)?;
    authorize_files(&state, &principal, &id, Permission::EMPLOYEES_MODIFY, Permission::CLIENT_ACCESS_EDIT, true)
        .await?;
    let mut v = Validator::new();
    let name = check_declared(&mut v, "", &req.name, &req.content_type, req.size, false);
    v.finish()?;
    let name = name.ok_or_else(|| AppError::invalid("name", "required"))?;
    let declared = Declared {
        kind: req.kind,
        name,
        content_type: req.content_type,
        size: req.size,
        expires_on: req.expires_on.map(Day::get),
    };
    let file = pending(&state, &principal, id, declared);
    state.store.put(file.item(&principal.org, 1)?, Condition::NotExists).await?;
    let upload = ticket(&state, &principal.org, &file).await?;
    let now = state.now();
    Ok(Created(FileUpload { file: FileView::new(file, now), upload }))
}
