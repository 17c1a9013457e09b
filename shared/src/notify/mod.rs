//! Notifications through a transactional outbox. A write that must notify puts an outbox item
//! in its own transaction ([`enqueue`]); delivery happens later, at least once, through one code
//! path ([`deliver::deliver`]) called by the local dispatcher (`guardpost serve`) or by the
//! notifier Lambda on the table's stream. Delivery claims an item before sending, so a replayed
//! stream batch sends nothing twice; failures are retried with backoff and end as `failed`,
//! listed for administrators.
//!
//! Secrets are never stored in an outbox item: a welcome or reset message names the user, and
//! its single-use link is made at delivery time (only its hash is stored).

#[cfg(feature = "aws")]
pub mod aws;
pub mod deliver;
pub mod dispatcher;
pub mod mailbox;
pub mod render;
mod temporary;

use crate::domain::utc;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{OrgSlug, SiteId, TimeEntryId, UserId};
use crate::error::AppError;
use crate::records::{item, sort_time};
use crate::store::{Condition, IndexKey, Item, Key, TxOp};

pub const KIND: &str = "outbox";

/// What to send. The first four are resolved at delivery (recipients, links); the last two
/// are one message to one address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// A new user's invitation to set a password (an employee's welcome, a client's invitation
    /// to the portal).
    Welcome {
        #[schema(value_type = String)]
        user_id: UserId,
        /// The credential's link generation it was asked for at: a newer invitation or a password
        /// set since makes it void (messages from before generations existed carry 0).
        #[serde(default)]
        generation: u32,
    },
    /// A temporary password, made and set at delivery, which must be changed at the next login.
    TemporaryPassword {
        #[schema(value_type = String)]
        user_id: UserId,
        generation: u32,
    },
    /// A password reset link.
    PasswordReset {
        #[schema(value_type = String)]
        user_id: UserId,
    },
    /// Someone clocked in on an unplanned shift: tell the site's managers.
    UnplannedClockIn {
        #[schema(value_type = String)]
        site_id: SiteId,
        #[schema(value_type = String)]
        employee_id: UserId,
        #[schema(value_type = String)]
        entry_id: TimeEntryId,
        #[serde(with = "utc")]
        at: DateTime<Utc>,
    },
    Email {
        to: String,
        subject: String,
        text: String,
    },
    Sms {
        to: String,
        text: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a deliverer.
    Sending,
    Sent,
    /// Given up on after the last attempt, or refused (rate limit, no usable address).
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutboxItem {
    pub id: String,
    pub message: Message,
    pub status: Status,
    pub attempts: u32,
    #[serde(with = "utc")]
    pub next_attempt_at: DateTime<Utc>,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    #[serde(default, with = "utc::option")]
    pub claimed_at: Option<DateTime<Utc>>,
    #[serde(default, with = "utc::option")]
    pub sent_at: Option<DateTime<Utc>>,
    /// What the sender answered (SES message id, SNS message id, mailbox file).
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    /// A message to several people: who they are, resolved at its first attempt and kept, so
    /// that every attempt tells the same people (absent from items of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<Recipient>>,
    /// Claims that found the previous one stale (it stopped before recording its outcome).
    #[serde(default)]
    pub stale_claims: u32,
    /// When an administrator last re-sent it: its retry window counts from here.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "utc::option")]
    pub retry_from: Option<DateTime<Utc>>,
}

/// One recipient of a message to several people, and the message they get. `key` (the person
/// and the channel) names their own outbox item: `{parent}-{key}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recipient {
    pub key: String,
    pub message: Message,
}

pub fn outbox_pk(org: &OrgSlug) -> String {
    format!("T#{org}#OUTBOX")
}

/// The organisation whose outbox `pk` is (`T#{org}#OUTBOX`).
pub fn outbox_org(pk: &str) -> Option<OrgSlug> {
    OrgSlug::parse(pk.strip_prefix("T#")?.strip_suffix("#OUTBOX")?).ok()
}

pub fn outbox_key(org: &OrgSlug, id: &str) -> Key {
    Key::new(outbox_pk(org), id.to_owned())
}

/// GSI2 lists an organisation's outbox by status, oldest due first.
pub fn by_status(org: &OrgSlug, status: Status) -> String {
    format!("T#{org}#OUTBOX#{}", status.as_str())
}

/// Partitions of the due index: every organisation's messages waiting to be sent, by when they
/// are due, spread over this many partition keys so that no one partition takes every write.
pub const DUE_SHARDS: u32 = 16;

/// The due index's partition key for shard `shard` (GSI1).
pub fn due_shard(shard: u32) -> String {
    format!("OUTBOX#DUE#{shard:02}")
}

/// The shard of a message: FNV-1a of its id, so that it never moves.
fn shard_of(id: &str) -> u32 {
    let hash = id.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    hash % DUE_SHARDS
}

impl OutboxItem {
    pub fn new(id: String, message: Message, now: DateTime<Utc>) -> Self {
        Self {
            id,
            message,
            status: Status::Pending,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            claimed_at: None,
            sent_at: None,
            provider_id: None,
            last_error: None,
            recipients: None,
            stale_claims: 0,
            retry_from: None,
        }
    }

    /// The stored item: listed by status in its organisation (GSI2) and, while it waits to be
    /// sent, in the due index across organisations (GSI1), which the sweep reads.
    pub fn item(&self, org: &OrgSlug, version: u64) -> Result<Item, AppError> {
        let mut it = item(outbox_key(org, &self.id), KIND, self)?.with_gsi2(IndexKey::new(
            by_status(org, self.status),
            format!("{}#{}", sort_time(self.next_attempt_at), self.id),
        ));
        if matches!(self.status, Status::Pending | Status::Sending) {
            let due = format!("{}#{org}#{}", sort_time(self.next_attempt_at), self.id);
            it = it.with_gsi1(IndexKey::new(due_shard(shard_of(&self.id)), due));
        }
        it.version = version;
        Ok(it)
    }
}

/// The transaction operation that enqueues a message; `id` is a new ULID.
pub fn enqueue(org: &OrgSlug, id: String, message: Message, now: DateTime<Utc>) -> Result<TxOp, AppError> {
    Ok(TxOp::put(OutboxItem::new(id, message, now).item(org, 1)?, Condition::NotExists))
}

/// An email to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying (throttling, network, 5xx).
    #[error("temporary: {0}")]
    Temporary(String),
    /// Retrying will not help (address refused, bad request).
    #[error("permanent: {0}")]
    Permanent(String),
}

/// Sends an email; answers the provider's message id.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &Email) -> Result<String, SendError>;
}

/// Sends a transactional SMS to an E.164 number; answers the provider's message id.
#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(&self, to: &str, text: &str) -> Result<String, SendError>;
}
