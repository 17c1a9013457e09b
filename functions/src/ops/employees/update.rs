//! `PATCH /v1/employees/{employee_id}`: TrackTik's "Modify an Employee" and SecurityTrax's user
//! form, with optimistic concurrency: `GET` answers an `ETag`, the change must send it back in
//! `If-Match` (`428` without it, `412` when someone changed the employee since).
//!
//! One transaction writes the employee against the version sent, moves the login and
//! employee-number claims that changed (a taken one answers `409`), checks that the new manager
//! and each one above them are still as read (so two changes at once cannot close a reporting
//! cycle), and records the change in the audit trail. Switching `active` or `can_login` off ends
//! the employee's sessions on their next request. No one changes someone who holds more than
//! they do (`403 outranked`).

use axum::extract::{Path, State};
use guardpost_shared::access::{Permission, Resource, authorize, authorize_reading, outranks_user};
use guardpost_shared::auth::Principal;
use guardpost_shared::domain::{OrgSlug, UserId, Validator};
use guardpost_shared::http::{Body, IfMatch, Problem, Tagged, path_id};
use guardpost_shared::records::audit::{self, Change};
use guardpost_shared::records::role;
use guardpost_shared::records::user::{self, LoginName, User, UserKind};
use guardpost_shared::records::{Tx, Versioned, item, keys};
use guardpost_shared::store::{Condition, Key, Store, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::patch::EmployeePatch;
use super::view::EmployeeView;
use crate::registry::{Access, Operation};

pub const OPERATION: Operation = Operation {
    id: "update-employee",
    method: "PATCH",
    path: "/v1/employees/{employee_id}",
    access: Access::Requires(Permission::EMPLOYEES_MODIFY),
    router,
};

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handler))
}

/// A reporting line deeper than this is refused (and bounds the cycle check).
const MAX_CHAIN: usize = 50;

#[utoipa::path(patch, path = "/v1/employees/{employee_id}", tag = "employees", security(("bearer" = [])), request_body = EmployeePatch,
    params(("employee_id" = String, Path),
        ("If-Match" = String, Header, description = "The ETag of the version read (GET /v1/employees/{employee_id}): a version number in double quotes. Other entity tags (`*`, weak ones, lists) never match: 412", pattern = r#"^[ \t]*(?:\*|(?:W/)?"[^"]*"(?:[ \t]*,[ \t]*(?:W/)?"[^"]*")*)[ \t]*$"#)),
    responses(
        (status = 200, body = EmployeeView, headers(("ETag" = String, description = "The new version"))),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Employee number, email or username already in use", body = Problem),
        (status = 412, description = "Changed since the version in If-Match", body = Problem),
        (status = 422, body = Problem),
        (status = 428, description = "If-Match missing", body = Problem),
    ))]
pub async fn handler(
    State(state): State<AppState>,
    principal: Principal,
    Path(employee_id): Path<String>,
    if_match: IfMatch,
    Body(req): Body<EmployeePatch>,
) -> AppResult<Tagged<EmployeeView>> {
    let expected = if_match.version()?;
    let id = path_id(&employee_id, "employee", UserId::parse)?;
    let store = state.store.as_ref();
    let org = &principal.org;
    // The employee, their assignments and their last login ride along with the decision's read.
    let wanted =
        vec![keys::user(org, &id), keys::user_access(org, &id), keys::last_login(org, &id), keys::credential(org, &id)];
    let (granted, items) =
        authorize_reading(&state, &principal, Permission::EMPLOYEES_MODIFY, Resource::User(id), wanted.clone()).await?;
    let read = |key: &Key| items.iter().find(|i| &i.key == key);
    let current = read(&wanted[0]).ok_or(AppError::NotFound("employee"))?;
    let current = Versioned { record: current.parse::<User>()?, version: current.version };
    let access = match read(&wanted[1]) {
        Some(a) => Versioned { record: a.parse::<role::UserAccess>()?, version: a.version },
        None => Versioned { record: role::UserAccess::default(), version: 0 },
    };
    let last = read(&wanted[2]).map(|l| l.parse::<user::LastLogin>().map(|l| l.at)).transpose()?;
    if current.record.kind != UserKind::Employee {
        return Err(AppError::NotFound("employee"));
    }
    if current.version != expected {
        return Err(AppError::PreconditionFailed);
    }
    if id != principal.user.id {
        outranks_user(&state, &principal, &current.record, &access.record.assignments).await?;
    }
    let now = state.now();
    let mut next = current.record.clone();
    let mut v = Validator::new();
    req.apply(&mut next, now.date_naive(), &mut v);
    v.finish()?;
    guard_access_fields(&state, &principal, &granted, &current.record, &next).await?;
    if current.record.may_log_in() && !next.may_log_in() {
        next.end_sessions(now);
    }
    next.updated_at = now;

    let mut tx = Tx::new();
    tx.push(
        TxOp::put(next.item(org, current.version + 1)?, Condition::VersionIs(current.version)),
        AppError::PreconditionFailed,
    );
    if next.hr.reports_to != current.record.hr.reports_to
        && let Some(manager) = next.hr.reports_to
    {
        reporting_line(store, org, &id, manager, &mut tx).await?;
    }
    if next.hr.recruited_by != current.record.hr.recruited_by
        && let Some(recruiter) = next.hr.recruited_by
    {
        if recruiter == id {
            return Err(AppError::invalid("hr.recruited_by", "an employee does not recruit themselves"));
        }
        // Already checked (at its version) when it is on the new reporting line.
        let key = keys::user(org, &recruiter);
        if !tx.touches(&key) {
            let unknown = AppError::invalid("hr.recruited_by", "no such user in this organisation");
            tx.push(TxOp::Check { key, condition: Condition::Exists }, unknown);
        }
    }
    // A new email retires the links sent to the old one (a welcome sent to a mistyped address).
    if next.email != current.record.email
        && let Some(c) = read(&wanted[3])
    {
        let mut credential: user::Credential = c.parse()?;
        credential.link_generation += 1;
        tx.push_plain(TxOp::put(credential.item(org, &id, c.version + 1)?, Condition::VersionIs(c.version)));
    }
    let claim = LoginName { user_id: id };
    let claims = [
        Claim {
            old: current.record.employee_number.clone(),
            new: next.employee_number.clone(),
            key: keys::employee_number,
            kind: user::EMPLOYEE_NUMBER_KIND,
            problem: "employee-number-taken",
            what: "employee number",
        },
        Claim {
            old: current.record.email.as_ref().map(|e| e.as_str().to_owned()),
            new: next.email.as_ref().map(|e| e.as_str().to_owned()),
            key: keys::login,
            kind: user::LOGIN_KIND,
            problem: "email-taken",
            what: "email",
        },
        Claim {
            old: current.record.username.as_ref().map(|u| u.as_str().to_owned()),
            new: next.username.as_ref().map(|u| u.as_str().to_owned()),
            key: keys::login,
            kind: user::LOGIN_KIND,
            problem: "username-taken",
            what: "username",
        },
    ];
    for Claim { old, new, key, kind, problem, what } in claims {
        // Claims compare as their keys do (employee numbers ignore case).
        if old.as_ref().map(|o| key(org, o)) == new.as_ref().map(|n| key(org, n)) {
            continue;
        }
        if let Some(old) = old {
            tx.push_plain(TxOp::Delete { key: key(org, &old), condition: Condition::None });
        }
        if let Some(new) = new {
            let taken = AppError::conflict(problem, format!("{what} already in use in this organisation"));
            tx.push(TxOp::put(item(key(org, &new), kind, &claim)?, Condition::NotExists), taken);
        }
    }
    tx.push_plain(audit::record(org, &principal, state.new_ulid(), now, change(&current.record, &next)?)?);
    tx.commit(store).await?;
    tracing::info!(employee = %id, by = %principal.user.id, "employee modified");
    let sensitive =
        id == principal.user.id || granted.also(&state, &principal, Permission::EMPLOYEES_VIEW_SENSITIVE).await?;
    Ok(Tagged { version: current.version + 1, body: EmployeeView::shown(&next, sensitive).with_last_login(last) })
}

/// Fields that bear on access: nobody changes them on themselves (a manager does not widen
/// their own directory, name their own manager, or switch their own login off); the directory
/// level is an administrator's setting (`employees:modify` over the organisation, so no one
/// gives more than the whole organisation's view from a site); and a login (email, username)
/// of someone else is changed only by whoever may reset their password, since a login one
/// controls is a password one can reset.
async fn guard_access_fields(
    state: &AppState,
    principal: &Principal,
    granted: &guardpost_shared::access::Granted,
    before: &User,
    after: &User,
) -> AppResult<()> {
    let refused = |kind: &'static str, detail: &str| Err(AppError::Denied { kind, detail: detail.into() });
    let changed = |f: fn(&User) -> String| f(before) != f(after);
    let on_self = before.id == principal.user.id;
    let access_fields = before.directory_access != after.directory_access
        || before.hr.reports_to != after.hr.reports_to
        || before.status != after.status
        || before.can_login != after.can_login
        || before.can_sms_users != after.can_sms_users;
    if on_self && access_fields && !principal.user.is_superuser {
        return refused(
            "self-change",
            "your directory access, manager, status and login flags are changed by someone else",
        );
    }
    if before.directory_access != after.directory_access {
        authorize(state, principal, Permission::EMPLOYEES_MODIFY, Resource::Organisation).await.map_err(|_| {
            AppError::Denied {
                kind: "administrator-setting",
                detail: "directory access is set by those who modify employees across the organisation".into(),
            }
        })?;
    }
    let logins = changed(|u| format!("{:?}{:?}", u.email, u.username));
    if logins && !on_self && !granted.also(state, principal, Permission::EMPLOYEES_RESET_PASSWORD).await? {
        return refused("reset-password-required", "changing someone's login needs employees:reset-password over them");
    }
    Ok(())
}

/// A uniqueness claim that may move: the value before and after, and how it is kept.
struct Claim {
    old: Option<String>,
    new: Option<String>,
    key: fn(&OrgSlug, &str) -> Key,
    kind: &'static str,
    problem: &'static str,
    what: &'static str,
}

/// Checks the new manager and everyone above them: employees of the organisation, never coming
/// back to `id`. Each is checked again in the transaction at the version read.
async fn reporting_line(store: &dyn Store, org: &OrgSlug, id: &UserId, manager: UserId, tx: &mut Tx) -> AppResult<()> {
    let mut at = manager;
    for _ in 0..MAX_CHAIN {
        if at == *id {
            return Err(AppError::invalid(
                "hr.reports_to",
                "this would make a cycle: they report, through others, to this employee",
            ));
        }
        let above = user::load(store, org, &at).await.map_err(|e| match e {
            AppError::NotFound(_) => AppError::invalid("hr.reports_to", "no such employee in this organisation"),
            other => other,
        })?;
        if above.record.kind != UserKind::Employee {
            return Err(AppError::invalid("hr.reports_to", "must be an employee"));
        }
        let moved =
            AppError::conflict("concurrent-update", "the reporting line changed meanwhile; read it again and retry");
        tx.push(TxOp::Check { key: keys::user(org, &at), condition: Condition::VersionIs(above.version) }, moved);
        match above.record.hr.reports_to {
            Some(next) => at = next,
            None => return Ok(()),
        }
    }
    Err(AppError::invalid("hr.reports_to", format!("the reporting line may be at most {MAX_CHAIN} deep")))
}

/// The audit entry: which fields changed, with the values of those that bear on access (logins,
/// status, login flag, directory level, manager); the others' values stay out of the trail.
fn change(before: &User, after: &User) -> AppResult<Change> {
    let (b, a) = (
        serde_json::to_value(before).map_err(anyhow::Error::from)?,
        serde_json::to_value(after).map_err(anyhow::Error::from)?,
    );
    const SHOWN: &[&str] = &["email", "username", "status", "can_login", "directory_access", "employee_number", "hr"];
    let mut fields = Vec::new();
    let (mut was, mut now) = (serde_json::Map::new(), serde_json::Map::new());
    for (key, value) in a.as_object().into_iter().flatten() {
        if matches!(key.as_str(), "updated_at" | "sessions_valid_after" | "session_epoch") || b.get(key) == Some(value)
        {
            continue;
        }
        fields.push(key.clone());
        if SHOWN.contains(&key.as_str()) {
            // Of the HR settings, only the manager bears on access (the directory's hierarchy).
            let (label, pick): (&str, fn(&serde_json::Value) -> serde_json::Value) = if key == "hr" {
                ("reports_to", |v| v.get("reports_to").cloned().unwrap_or_default())
            } else {
                (key.as_str(), Clone::clone)
            };
            was.insert(label.to_owned(), b.get(key).map(pick).unwrap_or_default());
            now.insert(label.to_owned(), pick(value));
        }
    }
    now.insert("changed_fields".into(), fields.into());
    Change::new("user.update", vec![after.id.to_string()], &was, &now)
}
