//! `POST /v1/integrations/{user_id}/secret`: a new client secret (shown once); the old one stops
//! working at once and every token issued with it is over.

use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{UserId, schema};
use guardpost_shared::http::{Created, Problem, path_id};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::keys;
use guardpost_shared::records::user::{self, UserKind};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ClientSecret, IntegrationCredentials, client_id, new_secret};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "rotate-integration-secret",
    method: "POST",
    path: "/v1/integrations/{user_id}/secret",
    access: Access::Requires(Permission::INTEGRATIONS_MANAGE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[utoipa::path(post, path = "/v1/integrations/{user_id}/secret", tag = "access", security(("bearer" = [])),
    params(("user_id" = inline(schema::Id), Path)),
    responses((status = 201, body = IntegrationCredentials), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<String>,
) -> AppResult<Created<IntegrationCredentials>> {
    let id = path_id(&user_id, "integration", UserId::parse)?;
    authorize(&state, &principal, Permission::INTEGRATIONS_MANAGE, Resource::Organisation).await?;
    let org = &principal.org;
    let current = user::load(state.store.as_ref(), org, &id).await.map_err(|_| AppError::NotFound("integration"))?;
    if current.record.kind != UserKind::Integration {
        return Err(AppError::NotFound("integration"));
    }
    let old = state.store.get(&keys::client_secret(org, &id)).await?.ok_or(AppError::NotFound("integration"))?;
    let old_secret: ClientSecret = old.parse()?;
    // A new secret is the integration's power in the caller's hands: only for callers who hold
    // at least what it holds.
    let access = guardpost_shared::records::role::load_access(state.store.as_ref(), org, &id).await?;
    guardpost_shared::access::outranks(&state, &principal, &access.record.assignments).await?;
    let now = state.now();
    let mut integration = current.record.clone();
    integration.end_sessions(now);
    integration.updated_at = now;
    let user_item = integration.item(org, current.version + 1)?;
    let (secret, secret_item) = new_secret(&state, org, &id, old.version + 1)?;
    let change = Change::new(
        "integration.rotate-secret",
        vec![id.to_string()],
        &serde_json::json!({ "secret_created_at": old_secret.created_at }),
        &serde_json::json!({ "secret_created_at": now }),
    )?;
    state
        .store
        .transact(vec![
            TxOp::put(user_item, Condition::VersionIs(current.version)),
            TxOp::put(secret_item, Condition::VersionIs(old.version)),
            audit::record(org, &principal, state.new_ulid(), now, change)?,
        ])
        .await?;
    Ok(Created(IntegrationCredentials {
        user_id: id.to_string(),
        client_id: client_id(org, &id),
        client_secret: secret,
    }))
}
