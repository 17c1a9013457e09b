//! Creating an organisation with its six default roles and its first superuser administrator
//! (the Administrator role over the whole organisation): `guardpost bootstrap`, and
//! the demo organisation `guardpost serve` seeds on an empty data directory. One transaction:
//! the organisation must not exist yet, so running it twice for one org is refused.

use guardpost_shared::access::defaults::default_roles;
use guardpost_shared::auth::password;
use guardpost_shared::domain::{AssignmentId, RoleId};
use guardpost_shared::domain::{Email, Name, OrgSlug, Secret, UserId};
use guardpost_shared::records::org::{self, Organisation};
use guardpost_shared::records::role::{self, Assignment, Scope};
use guardpost_shared::records::user::{User, UserKind};
use guardpost_shared::records::{item, keys};
use guardpost_shared::store::{Condition, TxOp};
use guardpost_shared::{AppError, AppResult, AppState};

use crate::ops::users::new::{commit, user_ops};

#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub slug: String,
    pub name: String,
    pub admin_email: String,
    pub admin_password: Secret,
}

pub async fn bootstrap(state: &AppState, req: NewOrganisation) -> AppResult<UserId> {
    let slug = OrgSlug::parse(&req.slug).map_err(|e| AppError::invalid("org", e.to_string()))?;
    let name = Name::parse(&req.name).map_err(|e| AppError::invalid("name", e.to_string()))?;
    let email = Email::parse(&req.admin_email).map_err(|e| AppError::invalid("admin_email", e.to_string()))?;
    let local_part = email.as_str().split('@').next().unwrap_or_default().to_owned();
    password::check_policy(req.admin_password.expose(), &[&local_part])
        .map_err(|why| AppError::invalid("password", why))?;
    let now = state.now();
    let hash =
        password::hash_off_thread(req.admin_password.into_exposed(), state.random.clone(), &state.hashing).await?;
    let id = UserId::from_ulid(state.new_ulid());
    let admin = User {
        is_superuser: true,
        email: Some(email),
        job_title: Some("Administrator".into()),
        ..User::new(id, UserKind::Employee, "Administrator".into(), name.as_str().to_owned(), now)
    };
    let organisation = Organisation { slug: slug.clone(), name: name.into_inner(), created_at: now, superusers: 1 };
    let org_op = TxOp::put(item(keys::org(&slug), org::KIND, &organisation)?, Condition::NotExists);
    let exists = AppError::conflict(
        "organisation-exists",
        format!("organisation {slug} already exists; bootstrap runs once per organisation"),
    );
    let directory = TxOp::put(
        item(keys::org_directory_entry(&slug), org::KIND, &serde_json::json!({ "slug": slug }))?,
        Condition::NotExists,
    );
    let listed = AppError::conflict("organisation-exists", format!("organisation {slug} already exists"));
    let mut before = vec![(org_op, exists), (directory, listed)];
    for role in default_roles(now) {
        let name_claim =
            item(keys::role_name(&slug, &role.name), role::ROLE_NAME_KIND, &serde_json::json!({ "role_id": role.id }))?;
        before.push((
            TxOp::put(name_claim, Condition::NotExists),
            AppError::conflict("organisation-exists", "roles exist"),
        ));
        before.push((
            TxOp::put(role.item(&slug, 1)?, Condition::NotExists),
            AppError::conflict("organisation-exists", "roles exist"),
        ));
    }
    let id = AssignmentId::from_ulid(state.new_ulid());
    let administrator = RoleId::default_role("administrator");
    let assignment =
        Assignment::new(id, administrator, Scope::Org, "first administrator of the organisation", now, admin.id);
    let credential = guardpost_shared::records::user::Credential::new(Some(hash), now);
    commit(state, user_ops(&slug, &admin, &credential, Some(assignment))?, before, ()).await?;
    Ok(admin.id)
}

/// Whether an organisation exists.
pub async fn exists(state: &AppState, slug: &OrgSlug) -> AppResult<bool> {
    Ok(state.store.get(&keys::org(slug)).await?.is_some())
}
