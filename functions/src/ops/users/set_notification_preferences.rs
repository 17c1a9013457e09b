//! `PUT /v1/me/notification-preferences`: the caller chooses, per topic, email and SMS. Topics
//! left out keep their setting; account emails cannot be switched off.

use axum::Json;
use axum::extract::State;
use guardpost_shared::access::{Permission, authorize_self};
use guardpost_shared::auth::Principal;
use guardpost_shared::http::{Body, Problem};
use guardpost_shared::{AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::preferences::{NotificationPreferences, PreferencesChange, change};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "set-my-notification-preferences",
    method: "PUT",
    path: "/v1/me/notification-preferences",
    access: Access::Requires(Permission::SELF_READ),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(put, path = "/v1/me/notification-preferences", tag = "me", security(("bearer" = [])), request_body = PreferencesChange,
    responses((status = 200, body = NotificationPreferences), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Body(req): Body<PreferencesChange>,
) -> AppResult<Json<NotificationPreferences>> {
    authorize_self(&state, &principal).await?;
    Ok(Json(change(state.store.as_ref(), &principal.org, &principal.user.id, &req).await?))
}
