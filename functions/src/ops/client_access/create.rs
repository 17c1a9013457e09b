//! `POST /v1/sites/{site_id}/client-accesses`: TrackTik's "Create a Client Access" (first and
//! last name, phone with an SMS box, email as the login, a client-portal role, status, and
//! either an invitation or a password with "force change"). The client user, their
//! credential, their assignment of the role over the site, the login claim, the access record,
//! the invitation and the audit entry are one transaction.
//!
//! Three store round trips after authentication: the decision's read (roles and the site) and
//! the chosen role, side by side; the transaction.

use axum::extract::{Path, State};
use guardpost_shared::access::schema::ClientRoleRef;
use guardpost_shared::access::{Permission, Resource, authorize_reading};
use guardpost_shared::auth::{Principal, password};
use guardpost_shared::domain::{AssignmentId, Email, Name, RoleId, Secret, SiteId, UserId, Validator, schema};
use guardpost_shared::http::{Body, Created, Problem, path_id};
use guardpost_shared::notify::{Message, enqueue};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::client_access::{self, ClientAccess};
use guardpost_shared::records::role::{Assignment, Scope};
use guardpost_shared::records::user::{Credential, User, UserKind, UserStatus};
use guardpost_shared::records::{Versioned, keys};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ClientAccessStatus, ClientAccessView, Parts, client_role};
use crate::ops::files::{NewPicture, check_declared, pending, ticket};
use crate::ops::users::PhoneInput;
use crate::ops::users::new::{commit, user_ops};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "create-client-access",
    method: "POST",
    path: "/v1/sites/{site_id}/client-accesses",
    access: Access::Requires(Permission::CLIENT_ACCESS_CREATE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientAccessRequest {
    #[schema(value_type = schema::Name)]
    pub first_name: String,
    #[schema(value_type = schema::Name)]
    pub last_name: String,
    /// The client's login (unique in the organisation); report notifications go here too.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    pub phone: Option<PhoneInput>,
    /// A role of the client portal, e.g. `client`.
    #[schema(value_type = ClientRoleRef)]
    pub role_id: String,
    /// Default `active`. A revoked access sends no invitation.
    pub status: Option<ClientAccessStatus>,
    /// Without a password, the client gets an invitation email with a single-use link valid 72
    /// hours. With one, `password_confirmation` must repeat it.
    pub password: Option<Secret>,
    pub password_confirmation: Option<Secret>,
    /// With a password: the client must change it at the first login (the default, ASVS 6.4.1);
    /// `false` only by an administrator (employees:reset-password over the organisation).
    pub force_change: Option<bool>,
    /// An optional picture of the client: the answer's `picture_upload` says where to send it.
    pub picture: Option<NewPicture>,
}

#[utoipa::path(post, path = "/v1/sites/{site_id}/client-accesses", tag = "client-access", security(("bearer" = [])),
    request_body = CreateClientAccessRequest,
    params(("site_id" = inline(schema::Id), Path)),
    responses(
        (status = 201, body = ClientAccessView),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The email is another user's login", body = Problem),
        (status = 422, body = Problem),
    ))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(site_id): Path<String>,
    Body(req): Body<CreateClientAccessRequest>,
) -> AppResult<axum::response::Response> {
    let site_id = path_id(&site_id, "site", SiteId::parse)?;
    let store = state.store.as_ref();
    let org = &principal.org;
    // The chosen role rides along with the decision's read; the sub-sites (for the answer) are
    // read beside it.
    let role_key = RoleId::parse(&req.role_id).ok().map(|id| keys::role(org, &id));
    let decided = authorize_reading(
        &state,
        &principal,
        Permission::CLIENT_ACCESS_CREATE,
        Resource::Site(site_id),
        role_key.into_iter().collect(),
    );
    let (decided, subs) = tokio::join!(decided, client_access::sub_sites(store, org, &site_id));
    let (granted, extra) = decided?;
    let subs = subs?;
    granted.site().ok_or(AppError::NotFound("site"))?;
    let role = client_role(extra.first());
    let now = state.now();
    let id = UserId::from_ulid(state.new_ulid());
    let mut v = Validator::new();
    let role = match role {
        Ok(role) => Some(role),
        Err(AppError::Invalid(errors)) => {
            errors.into_iter().for_each(|e| v.fail(&e.field, e.message));
            None
        }
        Err(other) => return Err(other),
    };
    let user = parse(&req, id, now, &mut v);
    let picture_name =
        req.picture.as_ref().and_then(|p| check_declared(&mut v, "picture", &p.name, &p.content_type, p.size, true));
    if let Some(p) = &req.password {
        let confirmation = req.password_confirmation.as_ref().map(Secret::expose);
        if confirmation != Some(p.expose()) {
            v.fail("password_confirmation", "must repeat the password");
        }
        let login = req.email.split('@').next().unwrap_or_default();
        if let Err(why) = password::check_policy(p.expose(), &[login, &req.first_name, &req.last_name]) {
            v.fail("password", why);
        }
    } else if req.password_confirmation.is_some() || req.force_change.is_some() {
        v.fail("password", "password_confirmation and force_change go with a password");
    }
    v.finish()?;
    let (Some(user), Some(role)) = (user, role) else {
        return Err(AppError::Internal(anyhow::anyhow!("validated field missing")));
    };
    if req.password.is_some() && req.force_change == Some(false) {
        guardpost_shared::access::may_waive_password_change(&state, &principal).await?;
    }
    let password_hash = match req.password {
        Some(p) => Some(password::hash_off_thread(p.into_exposed(), state.random.clone(), &state.hashing).await?),
        None => None,
    };
    let invite = password_hash.is_none() && user.status == UserStatus::Active;
    let mut credential = Credential::new(password_hash, now);
    credential.must_change = credential.password_hash.is_some() && req.force_change != Some(false);
    let assignment_id = AssignmentId::from_ulid(state.new_ulid());
    let assignment = Assignment::new(
        assignment_id,
        role.id.clone(),
        Scope::Site(site_id),
        "client portal access",
        now,
        principal.user.id,
    );
    let picture = match (&req.picture, picture_name) {
        (Some(p), Some(name)) => Some(pending(&state, &principal, id, p.declared(name))),
        _ => None,
    };
    let record = ClientAccess {
        id,
        site_id,
        assignment_id,
        invited_at: invite.then_some(now),
        picture_file_id: picture.as_ref().map(|p| p.id),
        created_at: now,
        created_by: principal.user.id,
    };
    let mut ops = user_ops(org, &user, &credential, Some(assignment.clone()))?;
    ops.push(TxOp::put(record.item(org, 1)?, Condition::NotExists));
    if let Some(file) = &picture {
        ops.push(TxOp::put(file.item(org, 1)?, Condition::NotExists));
    }
    if invite {
        let invitation = Message::Welcome { user_id: id, generation: credential.link_generation };
        ops.push(enqueue(org, state.new_ulid().to_string(), invitation, now)?);
    }
    let after = serde_json::json!({
        "site_id": site_id, "email": user.email, "status": user.status, "assignment": assignment,
    });
    let change = Change::new("client-access.create", vec![id.to_string()], &serde_json::Value::Null, &after)?;
    let before = vec![(
        audit::record(org, &principal, state.new_ulid(), now, change)?,
        AppError::conflict("concurrent-update", "retry"),
    )];
    let parts = Parts {
        user: Versioned { record: user, version: 1 },
        access: Versioned {
            record: guardpost_shared::records::role::UserAccess {
                user_id: Some(id),
                assignments: vec![assignment],
                sessions_valid_after: None,
            },
            version: 1,
        },
        credential: Some(Versioned { record: credential, version: 1 }),
        last_login_at: None,
    };
    let mut view = ClientAccessView::new(&record, &parts, Some(role.name), &subs);
    if let Some(file) = &picture {
        view.picture_upload = Some(ticket(&state, org, file).await?);
    }
    let answer = commit(&state, ops, before, Created(view)).await?;
    tracing::info!(client = %id, site = %site_id, by = %principal.user.id, "client access created");
    Ok(answer)
}

/// The client user the request describes (every field checked at once).
fn parse(
    req: &CreateClientAccessRequest,
    id: UserId,
    now: chrono::DateTime<chrono::Utc>,
    v: &mut Validator,
) -> Option<User> {
    let first_name = v.check("first_name", Name::parse(&req.first_name));
    let last_name = v.check("last_name", Name::parse(&req.last_name));
    let email = v.check("email", Email::parse(&req.email));
    let phone = req.phone.as_ref().and_then(|p| p.parse(v, "phone"));
    let mut user = User::new(id, UserKind::Client, first_name?.into_inner(), last_name?.into_inner(), now);
    user.email = Some(email?);
    user.main_phone = phone;
    if req.status == Some(ClientAccessStatus::Revoked) {
        user.status = UserStatus::Inactive;
    }
    Some(user)
}
