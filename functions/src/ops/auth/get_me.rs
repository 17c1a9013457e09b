//! `GET /v1/me`: the caller's own profile.

use axum::Json;
use axum::extract::State;
use guardpost_shared::auth::Principal;
use guardpost_shared::http::Problem;
use guardpost_shared::{AppResult, AppState};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ops::employees::view::EmployeeView;
use crate::registry::{Access, Operation};
use guardpost_shared::access::Permission;

pub const OPERATION: Operation =
    Operation { id: "get-me", method: "GET", path: "/v1/me", access: Access::Requires(Permission::SELF_READ), router };

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub org: String,
    pub session_id: String,
    pub user: EmployeeView,
}

#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn handler(State(state): State<AppState>, principal: Principal) -> AppResult<Json<Me>> {
    guardpost_shared::access::authorize_self(&state, &principal).await?;
    Ok(Json(Me {
        org: principal.org.to_string(),
        session_id: principal.session_id.to_string(),
        user: EmployeeView::from(&principal.user),
    }))
}
