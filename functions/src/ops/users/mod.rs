//! Users of every kind: flags only superusers change, login activity, the directory,
//! notification preferences, and how a new user is written.

pub mod directory;
pub mod fields;
pub mod get_notification_preferences;
pub mod get_user_notification_preferences;
pub mod login_activity;
pub(crate) mod new;
mod preferences;
pub mod set_notification_preferences;
pub mod set_superuser;
pub mod set_user_notification_preferences;

use guardpost_shared::domain::{Phone, PhoneE164, Validator};
use serde::Deserialize;
use utoipa::ToSchema;

/// A phone number as a client sends it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneInput {
    /// International form; stored as E.164.
    #[schema(value_type = fields::PhoneNumber)]
    pub number: String,
    /// The owner agreed to SMS alerts on this number.
    #[serde(default)]
    pub sms_enabled: bool,
    /// Never shown in the employee directory.
    #[serde(default)]
    pub private: bool,
}

impl PhoneInput {
    pub fn parse(&self, v: &mut Validator, field: &str) -> Option<Phone> {
        let number = v.check(&format!("{field}.number"), PhoneE164::parse(&self.number))?;
        Some(Phone { number, sms_enabled: self.sms_enabled, private: self.private })
    }
}

/// Decides whether the caller may act on another user, by the kind of user: an employee with
/// `employee` over them (through their sites), a client user with `client` over the site of
/// their access (the organisation when the access was deleted), an integration with
/// `integrations:manage`. With `must_outrank`, a change to an employee or an integration also
/// needs the caller to hold what they hold (`403 outranked`). Answers the user read. The user,
/// their client access and their assignments are one read.
pub(crate) async fn authorize_user(
    state: &guardpost_shared::AppState,
    principal: &guardpost_shared::auth::Principal,
    id: &guardpost_shared::domain::UserId,
    employee: guardpost_shared::access::Permission,
    client: guardpost_shared::access::Permission,
    must_outrank: bool,
) -> guardpost_shared::AppResult<guardpost_shared::records::user::User> {
    use guardpost_shared::AppError;
    use guardpost_shared::access::{Permission, Resource, authorize, outranks_user};
    use guardpost_shared::records::client_access::ClientAccess;
    use guardpost_shared::records::role::UserAccess;
    use guardpost_shared::records::{keys, user};
    let org = &principal.org;
    let wanted = [keys::user(org, id), keys::client_access(org, id), keys::user_access(org, id)];
    let items = state.store.batch_get(&wanted).await?;
    let read = |i: usize| items.iter().find(|it| it.key == wanted[i]);
    let target: user::User = read(0).ok_or(AppError::NotFound("user"))?.parse()?;
    let (permission, resource) = match target.kind {
        user::UserKind::Employee => (employee, Resource::User(*id)),
        user::UserKind::Client => match read(1).map(|r| r.parse::<ClientAccess>()).transpose()? {
            Some(access) => (client, Resource::Site(access.site_id)),
            None => (client, Resource::Organisation),
        },
        user::UserKind::Integration => (Permission::INTEGRATIONS_MANAGE, Resource::Organisation),
    };
    authorize(state, principal, permission, resource).await?;
    // Client roles give no power over staff: only employees and integrations can outrank.
    if must_outrank && target.kind != user::UserKind::Client {
        let access: UserAccess = read(2).map(|a| a.parse()).transpose()?.unwrap_or_default();
        outranks_user(state, principal, &target, &access.assignments).await?;
    }
    Ok(target)
}
