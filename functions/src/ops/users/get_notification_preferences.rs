//! `GET /v1/me/notification-preferences`: what the caller is told of, and how.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::{Permission, authorize_self};
use guardpost_shared::auth::Principal;
use guardpost_shared::http::Problem;
use guardpost_shared::records::preferences;
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::preferences::NotificationPreferences;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "get-my-notification-preferences",
    method: "GET",
    path: "/v1/me/notification-preferences",
    access: Access::Requires(Permission::SELF_READ),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(get, path = "/v1/me/notification-preferences", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = NotificationPreferences), (status = 401, body = Problem)))]
pub async fn handler(State(state): State<AppState>, principal: Principal) -> AppResult<Json<NotificationPreferences>> {
    authorize_self(&state, &principal).await?;
    let found = preferences::load(state.store.as_ref(), &principal.org, &principal.user.id).await?;
    Ok(Json(NotificationPreferences::from(&found.record)))
}
