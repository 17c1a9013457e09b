//! `POST /v1/employees`: the fields of TrackTik's "Create an Employee". Employee number, email
//! and username are unique per organisation, enforced by the store in the same transaction that
//! writes the employee (no read-then-write race).

use std::borrow::Cow;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use guardpost_shared::access::catalogue::Portal;
use guardpost_shared::access::schema::RoleRef;
use guardpost_shared::access::{Grant, Permission, Resource, authorize, may_grant};
use guardpost_shared::auth::{Principal, password};
use guardpost_shared::domain::{
    AssignmentId, BoundedText, Comment, Email, Name, RoleId, Secret, ShortText, SiteId, Tag, UserId, Username,
    Validator, schema,
};
use guardpost_shared::http::{Body, Created, Problem};
use guardpost_shared::notify::{Message, enqueue};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::role::{self as roles, Assignment, Scope};
use guardpost_shared::records::site::Address;
use guardpost_shared::records::user::{self, Credential, Gender, SiteAssignment, User, UserKind, UserStatus};
use guardpost_shared::records::{item, keys};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Ref, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::view::EmployeeView;
use crate::ops::users::new::{commit, user_ops};
use crate::ops::users::{PhoneInput, fields};
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "create-employee",
    method: "POST",
    path: "/v1/employees",
    access: Access::Requires(Permission::EMPLOYEES_CREATE),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEmployeeRequest {
    /// Unique per organisation: 1 to 32 of letters, digits, `.`, `_`, `-`.
    #[schema(value_type = fields::EmployeeNumber)]
    pub employee_number: String,
    #[schema(value_type = schema::Name)]
    pub first_name: String,
    #[schema(value_type = schema::Name)]
    pub last_name: String,
    #[schema(value_type = Option<schema::ShortText>)]
    pub job_title: Option<String>,
    pub main_phone: Option<PhoneInput>,
    pub other_phone: Option<PhoneInput>,
    pub gender: Option<Gender>,
    /// A login; unique per organisation.
    #[schema(value_type = Option<fields::EmailAddress>)]
    pub email: Option<String>,
    /// A login; unique per organisation.
    #[schema(value_type = Option<fields::Username>)]
    pub username: Option<String>,
    /// Without one, the employee cannot log in until a password is set. 10 to 128 characters,
    /// not containing the login, and not guessable (zxcvbn score 3 of 4).
    #[schema(value_type = Option<String>, format = Password, min_length = 10, max_length = 128)]
    pub password: Option<Secret>,
    /// With a password: the employee must change it at the first login (the default, ASVS
    /// 6.4.1); `false` only by an administrator (employees:reset-password over the organisation).
    pub force_change: Option<bool>,
    pub address: Option<Address>,
    #[schema(value_type = Option<fields::Birthday>)]
    pub birthday: Option<NaiveDate>,
    #[schema(value_type = Option<fields::WorkDay>)]
    pub employment_date: Option<NaiveDate>,
    #[schema(value_type = Option<fields::Comment>)]
    pub comments: Option<String>,
    /// At most 50.
    #[schema(value_type = Option<Vec<schema::Tag>>, max_items = 50)]
    pub tags: Option<Vec<String>>,
    /// The employee's first role: a default role's id (`guard`, `supervisor`, `manager`,
    /// `administrator`) or a custom role's. Default `guard`.
    #[schema(value_type = Option<RoleRef>, example = "guard")]
    pub role_id: Option<RoleId>,
    /// A site to assign the employee to at once (a site manager creating staff for their site
    /// gives it; without it, creating needs `employees:create` over the organisation).
    #[schema(value_type = Option<schema::Id>)]
    pub site_id: Option<String>,
    /// Where the role applies. Default: the organisation (the Guard role only lets its holder
    /// act for themselves, and clocking in still needs a site assignment).
    pub role_scope: Option<Scope>,
    /// Default true.
    pub can_login: Option<bool>,
}

/// The body of `POST /v1/employees` as the document states it: a [`CreateEmployeeRequest`] with
/// an email or a username (or both) to log in with, which `parse` requires.
pub struct NewEmployee;

impl PartialSchema for NewEmployee {
    fn schema() -> RefOr<Schema> {
        let login = |field: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(field, ObjectBuilder::new().schema_type(Type::String))
                .required(field)
        };
        AllOfBuilder::new()
            .description(Some("A new employee, with an email or a username (or both) to log in with"))
            .item(Ref::from_schema_name(CreateEmployeeRequest::name()))
            .item(AnyOfBuilder::new().item(login("email")).item(login("username")))
            .into()
    }
}

impl ToSchema for NewEmployee {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("NewEmployee")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((CreateEmployeeRequest::name().into_owned(), CreateEmployeeRequest::schema()));
        CreateEmployeeRequest::schemas(schemas);
    }
}

#[utoipa::path(post, path = "/v1/employees", tag = "employees", security(("bearer" = [])), request_body = NewEmployee,
    responses(
        (status = 201, body = EmployeeView),
        (status = 409, description = "Employee number, email or username already in use", body = Problem),
        (status = 422, body = Problem),
    ))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Body(req): Body<CreateEmployeeRequest>,
) -> AppResult<Response> {
    // With a site, a manager of that site may create the employee, who is assigned to it in the
    // same transaction (and so is in the manager's scope); without one it takes the organisation.
    let site = req
        .site_id
        .as_deref()
        .map(|s| SiteId::parse(s).map_err(|_| AppError::invalid("site_id", "is not a valid id")))
        .transpose()?;
    let resource = site.map_or(Resource::Organisation, Resource::Site);
    let granted = authorize(&state, &principal, Permission::EMPLOYEES_CREATE, resource).await.map_err(|e| match e {
        AppError::NotFound(_) => AppError::invalid("site_id", "no such site"),
        other => other,
    })?;
    let employee = parse(&req, UserId::from_ulid(state.new_ulid()), state.now())?;
    let role_id = req.role_id.clone().unwrap_or_else(|| RoleId::default_role("guard"));
    let role = roles::load(state.store.as_ref(), &principal.org, &role_id)
        .await
        .map_err(|_| AppError::invalid("role_id", "no such role in this organisation"))?
        .record;
    if role.portal == Portal::Client {
        return Err(AppError::invalid("role_id", "a client portal role cannot be given to an employee"));
    }
    let scope = req.role_scope.clone().unwrap_or(Scope::Org);
    // The Guard role is self-service only: whoever may create the employee may give it. Any
    // other role goes through the same check as every assignment.
    if role.id != RoleId::default_role("guard") {
        let grant = Grant { grantee: &employee.id, role: &role, scope: &scope, valid_until: None };
        may_grant(&state, &principal, grant).await.map_err(|e| match e {
            AppError::NotFound(what) => AppError::invalid("role_scope", format!("no such {what}")),
            other => other,
        })?;
    }
    let id = AssignmentId::from_ulid(state.new_ulid());
    let assignment = Assignment::new(id, role_id, scope, "role given at creation", state.now(), principal.user.id);
    let must_change = req.password.is_some() && req.force_change != Some(false);
    if req.password.is_some() && !must_change {
        guardpost_shared::access::may_waive_password_change(&state, &principal).await?;
    }
    let password_hash = match req.password {
        Some(p) => Some(password::hash_off_thread(p.into_exposed(), state.random.clone(), &state.hashing).await?),
        None => None,
    };
    let mut credential = Credential::new(password_hash, employee.created_at);
    credential.must_change = must_change;
    let sensitive = granted.also(&state, &principal, Permission::EMPLOYEES_VIEW_SENSITIVE).await?;
    let answer = Created(EmployeeView::shown(&employee, sensitive));
    let answer = write(&state, &principal, &employee, credential, Some(assignment), site, answer).await?;
    tracing::info!(employee = %employee.id, by = %principal.user.id, "employee created");
    Ok(answer)
}

/// Writes the employee, credential and uniqueness claims in one transaction, and answers
/// `answer`.
async fn write(
    state: &AppState,
    principal: &Principal,
    employee: &User,
    credential: Credential,
    assignment: Option<Assignment>,
    site: Option<SiteId>,
    answer: impl IntoResponse,
) -> AppResult<Response> {
    let mut before = Vec::new();
    if let Some(given) = &assignment {
        // The first role is an assignment like any other: audited in the same transaction.
        let after = serde_json::json!([{ "user_id": employee.id, "assignment": given }]);
        let change = Change::new("assignment.create", vec![employee.id.to_string()], &serde_json::json!([]), &after)?;
        let entry = audit::record(&principal.org, principal, state.new_ulid(), state.now(), change)?;
        before.push((entry, AppError::conflict("concurrent-update", "retry")));
    }
    let mut ops = user_ops(&principal.org, employee, &credential, assignment)?;
    if let Some(site_id) = site {
        let org = &principal.org;
        let at =
            SiteAssignment { user_id: employee.id, site_id, assigned_at: state.now(), assigned_by: principal.user.id };
        let record = item(keys::site_assignment(org, &employee.id, &site_id), user::SITE_ASSIGNMENT_KIND, &at)?
            .with_gsi1(keys::site_employee_index(org, &site_id, &employee.id));
        ops.push(TxOp::put(record, Condition::NotExists));
        before.push((
            TxOp::Check { key: keys::site(org, &site_id), condition: Condition::Exists },
            AppError::invalid("site_id", "no such site"),
        ));
    }
    if employee.email.is_some() {
        // The welcome email with its set-password link, in the same transaction.
        let welcome = Message::Welcome { user_id: employee.id, generation: 0 };
        ops.push(enqueue(&principal.org, state.new_ulid().to_string(), welcome, state.now())?);
    }
    commit(state, ops, before, answer).await
}

pub(crate) fn employee_number(raw: &str) -> Result<String, &'static str> {
    let n = raw.trim();
    if n.is_empty() || n.len() > 32 || !n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err("must be 1 to 32 of letters, digits, '.', '_' and '-'");
    }
    Ok(n.to_owned())
}

/// Parses every field, reporting all problems at once.
fn parse(req: &CreateEmployeeRequest, id: UserId, now: chrono::DateTime<chrono::Utc>) -> Result<User, AppError> {
    let today = now.date_naive();
    let mut v = Validator::new();
    let employee_number = v.check("employee_number", employee_number(&req.employee_number));
    let first_name = v.check("first_name", Name::parse(&req.first_name));
    let last_name = v.check("last_name", Name::parse(&req.last_name));
    let job_title = v.check_opt("job_title", req.job_title.as_deref().map(ShortText::parse));
    let main_phone = req.main_phone.as_ref().and_then(|p| p.parse(&mut v, "main_phone"));
    let other_phone = req.other_phone.as_ref().and_then(|p| p.parse(&mut v, "other_phone"));
    let email = v.check_opt("email", req.email.as_deref().map(Email::parse));
    let username = v.check_opt("username", req.username.as_deref().map(Username::parse));
    if req.email.is_none() && req.username.is_none() {
        v.fail("email", "an employee needs an email or a username to log in");
    }
    if let Some(p) = &req.password {
        let logins: Vec<&str> = [req.username.as_deref(), req.email.as_deref().and_then(|e| e.split('@').next())]
            .into_iter()
            .flatten()
            .collect();
        if let Err(why) = password::check_policy(p.expose(), &logins) {
            v.fail("password", why);
        }
    }
    let address = req.address.as_ref().and_then(|a| Address::parse(a, "address", &mut v));
    if req.birthday.is_some_and(|b| b >= today || b.year() < 1900) {
        v.fail("birthday", "must be a past date after 1900");
    }
    if req.employment_date.is_some_and(|d| d.year() < 1950 || d > today + chrono::Duration::days(366)) {
        v.fail("employment_date", "must be after 1950 and at most a year ahead");
    }
    let comments = v.check_opt("comments", req.comments.as_deref().map(Comment::parse));
    let mut tags = Vec::new();
    for (i, t) in req.tags.iter().flatten().enumerate() {
        if let Some(tag) = v.check(&format!("tags[{i}]"), Tag::parse(t)) {
            tags.push(tag.into_inner());
        }
    }
    if tags.len() > 50 {
        v.fail("tags", "at most 50 tags");
    }
    tags.sort();
    tags.dedup();
    v.finish()?;
    let missing = || AppError::Internal(anyhow::anyhow!("validated field missing"));
    Ok(User {
        id,
        kind: UserKind::Employee,
        status: UserStatus::Active,
        can_login: req.can_login.unwrap_or(true),
        is_superuser: false,
        email,
        username,
        sessions_valid_after: now,
        session_epoch: 0,
        employee_number,
        first_name: first_name.ok_or_else(missing)?.into_inner(),
        last_name: last_name.ok_or_else(missing)?.into_inner(),
        job_title: job_title.map(BoundedText::into_inner).filter(|s| !s.is_empty()),
        main_phone,
        other_phone,
        gender: req.gender,
        address,
        birthday: req.birthday,
        employment_date: req.employment_date,
        comments: comments.map(|c| c.as_str().to_owned()).filter(|s| !s.is_empty()),
        tags,
        hr: Default::default(),
        can_sms_users: false,
        directory_access: None,
        created_at: now,
        updated_at: now,
    })
}
