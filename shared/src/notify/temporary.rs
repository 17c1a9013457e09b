//! A temporary password, emailed (SecurityTrax's "Generate Random Password"). The password is
//! made here, at delivery, never in the request, so no secret sits in the outbox: the request
//! cleared the old password and moved the credential to a new link generation; delivery makes a
//! password, stores its hash against the credential version it read (still at that
//! generation), and emails it. A retried delivery makes a new one (only the last email's works);
//! anything that changed the credential since (a newer reset, the user setting a password) makes
//! the message void.

use super::Email;
use super::render::{Account, Context, Rendered, account};
use crate::auth::password;
use crate::domain::{OrgSlug, UserId};
use crate::error::AppError;
use crate::records::user::Credential;
use crate::store::{Condition, StoreError};

pub async fn render(ctx: &Context<'_>, org: &OrgSlug, user_id: &UserId, generation: u32) -> Result<Rendered, AppError> {
    let Account { user, email, credential, org_name } = match account(ctx, org, user_id).await? {
        Ok(a) => a,
        Err(why) => return Ok(Rendered::Nothing(why)),
    };
    if credential.record.link_generation != generation {
        return Ok(Rendered::Nothing("superseded: the password was changed or reset again since".into()));
    }
    let temporary = password::temporary(ctx.random);
    let hash = password::hash_salted_off_thread(temporary.clone(), ctx.random.bytes(16)).await?;
    let stored = Credential { password_hash: Some(hash), changed_at: ctx.now, must_change: true, ..credential.record };
    let put =
        ctx.store.put(stored.item(org, user_id, credential.version + 1)?, Condition::VersionIs(credential.version));
    match put.await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => {
            return Ok(Rendered::Nothing("superseded: the password was changed while the email was made".into()));
        }
        Err(e) => return Err(e.into()),
    }
    let login = user.username.as_ref().map_or(email.as_str(), |u| u.as_str()).to_owned();
    let text = format!(
        "Hello {},\n\nYour {org_name} password was reset. Log in (organisation \"{org}\", login {login}) with this temporary password:\n\n    {temporary}\n\nYou will be asked to choose a new password at once.\n",
        user.first_name
    );
    Ok(Rendered::Email(Email { to: email, subject: format!("Your temporary {org_name} password"), text }))
}
