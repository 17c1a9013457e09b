//! `POST /v1/employees/{employee_id}/password`: TrackTik's "Reset a Password" and SecurityTrax's
//! password section, by a manager in scope with `employees:reset-password`:
//! - `{password, password_confirmation, force_change?}` sets a typed password;
//! - `{generate: true}` clears the password and emails a random temporary one (made at
//!   delivery, never stored in the outbox), which must be changed at the next login.
//!
//! Either way every session of the employee ends and the credential moves to a new link
//! generation, so reset links and invitations sent before stop working. The audit trail records
//! the reset (never the password). No one resets the password of someone who holds more than
//! they do; one's own password is changed with `POST /v1/me/password`.

use axum::Json;
use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize, outranks_user};
use guardpost_shared::auth::{Principal, password};
use guardpost_shared::domain::{Secret, UserId};
use guardpost_shared::http::{Body, Problem, path_id};
use guardpost_shared::notify::{Message, enqueue};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::user::{self, Credential, UserKind};
use guardpost_shared::records::{Tx, get, keys, role};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "reset-employee-password",
    method: "POST",
    path: "/v1/employees/{employee_id}/password",
    access: Access::Requires(Permission::EMPLOYEES_RESET_PASSWORD),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// A new password, repeated in `password_confirmation`; or leave both out and send
    /// `generate: true`. 10 to 128 characters, not containing the employee's login or names,
    /// and not guessable (zxcvbn score 3 of 4).
    #[schema(value_type = Option<String>, format = Password, min_length = 10, max_length = 128)]
    pub password: Option<Secret>,
    /// The same as `password`.
    #[schema(value_type = Option<String>, format = Password, min_length = 10, max_length = 128)]
    pub password_confirmation: Option<Secret>,
    /// Email a random temporary password (the employee must change it at the next login).
    #[serde(default)]
    pub generate: bool,
    /// With a typed password: the employee must change it at the next login (the default, ASVS
    /// 6.4.1); `false` only by an administrator (employees:reset-password over the organisation).
    pub force_change: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    pub user_id: String,
    /// Every session of the employee ended.
    pub sessions_ended: bool,
    /// The next login gets a session that may only change the password.
    pub must_change: bool,
    /// A temporary password is on its way by email.
    pub emailed: bool,
}

#[utoipa::path(post, path = "/v1/employees/{employee_id}/password", tag = "employees", security(("bearer" = [])),
    request_body = ResetPasswordRequest,
    params(("employee_id" = String, Path)),
    responses((status = 200, body = PasswordReset), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(employee_id): Path<String>,
    Body(req): Body<ResetPasswordRequest>,
) -> AppResult<Json<PasswordReset>> {
    let id = path_id(&employee_id, "employee", UserId::parse)?;
    authorize(&state, &principal, Permission::EMPLOYEES_RESET_PASSWORD, Resource::User(id)).await?;
    if id == principal.user.id {
        return Err(AppError::invalid("employee_id", "change your own password with POST /v1/me/password"));
    }
    let store = state.store.as_ref();
    let org = &principal.org;
    let (target, access, credential) =
        tokio::try_join!(user::load(store, org, &id), role::load_access(store, org, &id), async {
            Ok(get::<Credential>(store, &keys::credential(org, &id)).await?)
        })?;
    if target.record.kind != UserKind::Employee {
        return Err(AppError::NotFound("employee"));
    }
    outranks_user(&state, &principal, &target.record, &access.record.assignments).await?;
    let credential = credential.ok_or(AppError::NotFound("employee"))?;
    let now = state.now();
    let generation = credential.record.link_generation + 1;
    let (next, emailed) = match (&req.password, req.generate) {
        (Some(typed), false) => {
            if req.password_confirmation.as_ref().map(Secret::expose) != Some(typed.expose()) {
                return Err(AppError::invalid("password_confirmation", "must repeat the password"));
            }
            let u = &target.record;
            let email_name = u.email.as_ref().and_then(|e| e.as_str().split('@').next());
            let logins: Vec<&str> = [
                u.username.as_ref().map(|n| n.as_str()),
                email_name,
                Some(u.first_name.as_str()),
                Some(u.last_name.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect();
            password::check_policy(typed.expose(), &logins).map_err(|why| AppError::invalid("password", why))?;
            let hash =
                password::hash_off_thread(typed.expose().to_owned(), state.random.clone(), &state.hashing).await?;
            let must_change = req.force_change != Some(false);
            if !must_change {
                guardpost_shared::access::may_waive_password_change(&state, &principal).await?;
            }
            (Credential { password_hash: Some(hash), changed_at: now, must_change, link_generation: generation }, false)
        }
        (None, true) => {
            if req.password_confirmation.is_some() || req.force_change == Some(false) {
                return Err(AppError::invalid("generate", "a generated password comes alone, and must be changed"));
            }
            if target.record.email.is_none() {
                return Err(AppError::invalid("generate", "the employee has no email address to send it to"));
            }
            (Credential { password_hash: None, changed_at: now, must_change: true, link_generation: generation }, true)
        }
        _ => {
            return Err(AppError::invalid(
                "password",
                "send either a password (with its confirmation) or generate: true",
            ));
        }
    };
    let mut employee = target.record.clone();
    employee.end_sessions(now);
    employee.updated_at = now;
    let after = serde_json::json!({ "generated": emailed, "must_change": next.must_change });
    let change = Change::new("user.password-reset", vec![id.to_string()], &serde_json::Value::Null, &after)?;
    let mut tx = Tx::new();
    tx.push_plain(TxOp::put(next.item(org, &id, credential.version + 1)?, Condition::VersionIs(credential.version)));
    tx.push_plain(TxOp::put(employee.item(org, target.version + 1)?, Condition::VersionIs(target.version)));
    tx.push_plain(audit::record(org, &principal, state.new_ulid(), now, change)?);
    if emailed {
        let message = Message::TemporaryPassword { user_id: id, generation };
        tx.push_plain(enqueue(org, state.new_ulid().to_string(), message, now)?);
    }
    tx.commit(store).await?;
    tracing::info!(employee = %id, by = %principal.user.id, generated = emailed, "password reset by a manager");
    Ok(Json(PasswordReset { user_id: id.to_string(), sessions_ended: true, must_change: next.must_change, emailed }))
}
