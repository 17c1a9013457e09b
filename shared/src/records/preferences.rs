//! Notification preferences (SecurityTrax's "Notifications Management"): per kind of
//! notification, whether the user wants it by email and by SMS. A user who never chose has the
//! defaults; account emails (invitations, password links, temporary passwords) always go out.
//!
//! How a notification picks its channel: an alert (an exception) goes by SMS when the user
//! allows SMS for it and has a number that takes SMS, otherwise by email when they allow email;
//! other kinds go by every channel the user allows that they have an address for.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::keys;
use crate::domain::{OrgSlug, UserId};
use crate::error::AppError;
use crate::store::{Item, Store};

pub const KIND: &str = "notification-preferences";

/// What a notification is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Invitations, password links: email cannot be switched off.
    Account,
    /// A report was submitted at one of the user's sites.
    ReportSubmitted,
    /// Exceptions: unplanned clock-ins, missed shifts, late check-ins, panic.
    Exception,
    /// A change to the user's schedule.
    ScheduleChange,
    /// A broadcast message.
    Broadcast,
}

impl Topic {
    pub const ALL: [Topic; 5] =
        [Self::Account, Self::ReportSubmitted, Self::Exception, Self::ScheduleChange, Self::Broadcast];

    /// What a user who never chose gets.
    pub fn default_channels(self) -> Channels {
        match self {
            Self::Exception => Channels { email: true, sms: true },
            Self::Account | Self::ReportSubmitted | Self::ScheduleChange | Self::Broadcast => {
                Channels { email: true, sms: false }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Channels {
    pub email: bool,
    pub sms: bool,
}

/// The choices a user made; topics not chosen have their defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    #[serde(default)]
    pub chosen: std::collections::BTreeMap<Topic, Channels>,
}

impl Preferences {
    pub fn channels(&self, topic: Topic) -> Channels {
        let mut c = self.chosen.get(&topic).copied().unwrap_or_else(|| topic.default_channels());
        if topic == Topic::Account {
            c.email = true;
        }
        c
    }

    pub fn item(&self, org: &OrgSlug, user: &UserId, version: u64) -> Result<Item, AppError> {
        let mut item = super::item(keys::notification_preferences(org, user), KIND, self)?;
        item.version = version;
        Ok(item)
    }
}

/// A user's preferences with the item's version (0: never chosen, all defaults).
pub async fn load(store: &dyn Store, org: &OrgSlug, user: &UserId) -> Result<super::Versioned<Preferences>, AppError> {
    Ok(super::get(store, &keys::notification_preferences(org, user))
        .await?
        .unwrap_or(super::Versioned { record: Preferences::default(), version: 0 }))
}
