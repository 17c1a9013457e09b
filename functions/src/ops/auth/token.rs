//! `POST /v1/auth/token`: integration users trade their client id and secret for an access
//! token (OAuth 2.0 client-credentials style, in JSON). No refresh token: ask again. Refused with
//! `403 api-access-blocked` when none of the integration's roles grants API access from the
//! caller's address; every later request is checked the same way.

use std::borrow::Cow;

use axum::Json;
use axum::extract::State;
use chrono::Duration;
use guardpost_shared::access::{DenialReason, Subject, Target, decision, gather};
use guardpost_shared::auth::tokens::{ACCESS_TTL_SECS, hash_secret};
use guardpost_shared::domain::{OrgSlug, Secret, UserId};
use guardpost_shared::http::{Body, ClientInfo, Problem};
use guardpost_shared::records::keys;
use guardpost_shared::records::role::{self, UserAccess};
use guardpost_shared::records::user::{self, User, UserKind};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::session::{new_session, session_item};
use crate::ops::integrations::{ClientSecret, SECRET_KIND};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation =
    Operation { id: "issue-client-token", method: "POST", path: "/v1/auth/token", access: Access::Public, router };

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Always `client_credentials`.
    #[schema(value_type = GrantType)]
    pub grant_type: String,
    pub client_id: String,
    #[schema(value_type = String)]
    pub client_secret: Secret,
}

/// The one grant type there is, as the handler compares it (exactly): `client_credentials`.
pub struct GrantType;

impl PartialSchema for GrantType {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Always client_credentials"))
            .enum_values(Some(["client_credentials"]))
            .into()
    }
}

impl ToSchema for GrantType {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("GrantType")
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientToken {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_in: i64,
}

fn same(a: &str, b: &str) -> bool {
    // Compare digests so the time taken does not depend on where the strings differ.
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

#[utoipa::path(post, path = "/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = ClientToken), (status = 401, body = Problem), (status = 403, description = "api-access-blocked", body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    client: ClientInfo,
    Body(req): Body<TokenRequest>,
) -> AppResult<Json<ClientToken>> {
    if req.grant_type != "client_credentials" {
        return Err(AppError::invalid("grant_type", "must be client_credentials"));
    }
    let (org, user_id) = req
        .client_id
        .split_once('.')
        .and_then(|(o, u)| Some((OrgSlug::parse(o).ok()?, UserId::parse(u).ok()?)))
        .ok_or(AppError::InvalidCredentials)?;
    let wanted = [keys::user(&org, &user_id), keys::client_secret(&org, &user_id), keys::user_access(&org, &user_id)];
    let items = state.store.batch_get(&wanted).await?;
    let find = |kind: &str| items.iter().find(|i| i.kind == kind);
    let user: User = find(user::KIND).ok_or(AppError::InvalidCredentials)?.parse()?;
    let secret_item = find(SECRET_KIND).ok_or(AppError::InvalidCredentials)?;
    let secret: ClientSecret = secret_item.parse()?;
    let secret_version = secret_item.version;
    let access: UserAccess = find(role::ACCESS_KIND).map(|i| i.parse()).transpose()?.unwrap_or_default();
    let presented = hash_secret(req.client_secret.expose());
    if !same(&presented, &secret.secret_hash) || user.kind != UserKind::Integration || !user.may_log_in() {
        return Err(AppError::InvalidCredentials);
    }
    let ip = client.ip.as_deref().and_then(|ip| ip.parse().ok());
    let (roles, _) =
        gather(state.store.as_ref(), &org, &access.assignments, guardpost_shared::access::Resource::Organisation)
            .await?;
    let subject = Subject { user: &user, assignments: &access.assignments, roles: &roles, ip };
    let gate = decision::decide(&subject, "self:read", &Target::Org, state.now());
    match gate.reason {
        Some(DenialReason::ApiAccessBlocked) => {
            return Err(AppError::Denied { kind: "api-access-blocked", detail: gate.detail });
        }
        Some(_) => return Err(AppError::InvalidCredentials),
        None => {}
    }
    let (mut session, _) = new_session(&state, &org, &user, &client, false);
    session.expires_at = session.created_at + Duration::seconds(ACCESS_TTL_SECS);
    // The session is made only if the secret is still the one checked: a rotation committed
    // meanwhile leaves no token of the old secret behind.
    let written = state
        .store
        .transact(vec![
            TxOp::put(session_item(&org, &session, 1)?, Condition::NotExists),
            TxOp::Check { key: keys::client_secret(&org, &user_id), condition: Condition::VersionIs(secret_version) },
        ])
        .await;
    match written {
        Err(guardpost_shared::store::StoreError::TransactionCanceled { failed }) if failed.contains(&1) => {
            return Err(AppError::InvalidCredentials);
        }
        other => other?,
    }
    let access_token = state.tokens.issue(&org, &user.id, &session.id, state.now())?;
    tracing::info!(integration = %user.id, "client token issued");
    Ok(Json(ClientToken { access_token, token_type: "Bearer", expires_in: ACCESS_TTL_SECS }))
}
