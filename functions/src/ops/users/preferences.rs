//! Notification preferences as the API shows and takes them: one entry per topic.

use guardpost_shared::domain::{OrgSlug, UserId};
use guardpost_shared::records::preferences::{self, Channels, Preferences, Topic};
use guardpost_shared::store::Store;
use guardpost_shared::{AppError, AppResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::fields;

/// Per topic, the channels the user gets it by.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPreferences {
    /// Invitations and password emails: email is always on.
    pub account: Channels,
    pub report_submitted: Channels,
    /// Unplanned clock-ins and the other exceptions: by SMS when on and the number takes SMS,
    /// else by email.
    pub exception: Channels,
    pub schedule_change: Channels,
    pub broadcast: Channels,
}

impl From<&Preferences> for NotificationPreferences {
    fn from(p: &Preferences) -> Self {
        Self {
            account: p.channels(Topic::Account),
            report_submitted: p.channels(Topic::ReportSubmitted),
            exception: p.channels(Topic::Exception),
            schedule_change: p.channels(Topic::ScheduleChange),
            broadcast: p.channels(Topic::Broadcast),
        }
    }
}

/// The topics to change; those left out keep their setting.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesChange {
    /// Account emails cannot be switched off: `email` is `true`.
    #[schema(value_type = Option<fields::AccountChannels>)]
    pub account: Option<Channels>,
    pub report_submitted: Option<Channels>,
    pub exception: Option<Channels>,
    pub schedule_change: Option<Channels>,
    pub broadcast: Option<Channels>,
}

/// Reads the user's preferences, applies the change and writes them back against the version
/// read (a concurrent change answers 409).
pub async fn change(
    store: &dyn Store,
    org: &OrgSlug,
    user: &UserId,
    change: &PreferencesChange,
) -> AppResult<NotificationPreferences> {
    if change.account.is_some_and(|c| !c.email) {
        return Err(AppError::invalid(
            "account.email",
            "account emails (invitations, password links) cannot be switched off",
        ));
    }
    let mut current = preferences::load(store, org, user).await?;
    let chosen = [
        (Topic::Account, change.account),
        (Topic::ReportSubmitted, change.report_submitted),
        (Topic::Exception, change.exception),
        (Topic::ScheduleChange, change.schedule_change),
        (Topic::Broadcast, change.broadcast),
    ];
    for (topic, channels) in chosen {
        if let Some(c) = channels {
            current.record.chosen.insert(topic, c);
        }
    }
    let item = current.record.item(org, user, current.version + 1)?;
    store.put(item, guardpost_shared::records::written_over(current.version)).await?;
    Ok(NotificationPreferences::from(&current.record))
}
