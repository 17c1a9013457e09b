//! The audit trail of access changes: roles, assignments, superuser flags, API access and
//! integration credentials. Each entry is written in the same transaction as the change it
//! records, so a change without its entry cannot happen.

use crate::domain::utc;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::domain::{OrgSlug, UserId};
use crate::error::AppError;
use crate::store::{Condition, TxOp};

use super::keys;

pub const KIND: &str = "audit";

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    #[serde(with = "utc")]
    pub at: DateTime<Utc>,
    /// Who made the change.
    #[schema(value_type = String)]
    pub actor: UserId,
    /// From which address.
    pub ip: Option<String>,
    /// What was done, e.g. `role.update`, `assignment.create`, `superuser.set`.
    pub action: String,
    /// The ids the change is about (users, roles, assignments).
    pub subjects: Vec<String>,
    /// The state before: an object, a list, or null for a creation.
    #[schema(value_type = Value)]
    pub before: Value,
    /// The state after: an object, a list, or null for a deletion.
    #[schema(value_type = Value)]
    pub after: Value,
}

/// A change to record: what was done, to whom, and the state before and after.
pub struct Change {
    pub action: &'static str,
    pub subjects: Vec<String>,
    pub before: Value,
    pub after: Value,
}

impl Change {
    pub fn new(
        action: &'static str,
        subjects: Vec<String>,
        before: &impl Serialize,
        after: &impl Serialize,
    ) -> Result<Self, AppError> {
        let json = |v: Result<Value, serde_json::Error>| v.map_err(|e| AppError::Internal(e.into()));
        Ok(Self {
            action,
            subjects,
            before: json(serde_json::to_value(before))?,
            after: json(serde_json::to_value(after))?,
        })
    }
}

/// The transaction operation that records a change made by `principal` at `at`.
pub fn record(
    org: &OrgSlug,
    principal: &Principal,
    id: ulid::Ulid,
    at: DateTime<Utc>,
    change: Change,
) -> Result<TxOp, AppError> {
    let entry = AuditEntry {
        id: id.to_string(),
        at,
        actor: principal.user.id,
        ip: principal.ip.map(|ip| ip.to_string()),
        action: change.action.to_owned(),
        subjects: change.subjects,
        before: change.before,
        after: change.after,
    };
    Ok(TxOp::put(super::item(keys::audit_entry(org, at, &id), KIND, &entry)?, Condition::NotExists))
}
