//! Users of every kind: flags only superusers change, login activity, the directory,
//! notification preferences, and how a new user is written.

pub mod directory;
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
/// `integrations:manage`. Answers the user read.
pub(crate) async fn authorize_user(
    state: &guardpost_shared::AppState,
    principal: &guardpost_shared::auth::Principal,
    id: &guardpost_shared::domain::UserId,
    employee: guardpost_shared::access::Permission,
    client: guardpost_shared::access::Permission,
) -> guardpost_shared::AppResult<guardpost_shared::records::Versioned<guardpost_shared::records::user::User>> {
    use guardpost_shared::AppError;
    use guardpost_shared::access::{Permission, Resource, authorize};
    use guardpost_shared::records::{client_access, user};
    let store = state.store.as_ref();
    let org = &principal.org;
    let target = user::load(store, org, id).await.map_err(|_| AppError::NotFound("user"))?;
    let (permission, resource) = match target.record.kind {
        user::UserKind::Employee => (employee, Resource::User(*id)),
        user::UserKind::Client => match client_access::load(store, org, id).await {
            Ok(access) => (client, Resource::Site(access.record.site_id)),
            Err(AppError::NotFound(_)) => (client, Resource::Organisation),
            Err(e) => return Err(e),
        },
        user::UserKind::Integration => (Permission::INTEGRATIONS_MANAGE, Resource::Organisation),
    };
    authorize(state, principal, permission, resource).await?;
    Ok(target)
}
