//! `GET /v1/users/{user_id}/files`: a user's files, oldest first, with expired licences and
//! certifications flagged. One's own, or with `employees:view` / `client-access:view`.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::Permission;
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::UserId;
use guardpost_shared::http::{PageParams, Paged, Params, Problem, path_id};
use guardpost_shared::records::file::{self, UserFile};
use guardpost_shared::records::keys;
use guardpost_shared::store::{Item, Query, read_page};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{FileView, authorize_files};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "list-user-files",
    method: "GET",
    path: "/v1/users/{user_id}/files",
    access: Access::Requires(Permission::EMPLOYEES_VIEW),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/users/{user_id}/files", tag = "employees", security(("bearer" = [])),
    params(("user_id" = String, Path), PageParams),
    responses((status = 200, body = Paged<FileView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<String>,
    Params(page): Params<PageParams>,
) -> AppResult<Json<Paged<FileView>>> {
    let id = path_id(&user_id, "user", UserId::parse)?;
    authorize_files(&state, &principal, &id, Permission::EMPLOYEES_VIEW, Permission::CLIENT_ACCESS_VIEW, false).await?;
    let query = Query::table(keys::user_items(&principal.org, &id))
        .prefix(keys::FILE_PREFIX)
        .limit(page.limit()?)
        .after(page.cursor()?);
    let result = read_page(state.store.as_ref(), &query).await?;
    let now = state.now();
    let items = result
        .items
        .iter()
        .filter(|i| i.kind == file::KIND)
        .map(|i| Item::parse::<UserFile>(i).map(|f| FileView::new(f, now)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Paged::from_page(&result, items)))
}
