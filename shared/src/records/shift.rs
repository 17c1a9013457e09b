//! Shifts put an employee at a site for a time window. Each is stored twice in one
//! transaction: under the site (schedules) and under the employee (read consistently at
//! clock-in).

use crate::domain::utc;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{OrgSlug, ShiftId, SiteId, UserId};
use crate::error::AppError;
use crate::store::{Condition, Item, TxOp};

pub const KIND: &str = "shift";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShiftKind {
    Scheduled,
    /// Made by the system when someone clocks in with no shift scheduled anywhere.
    Unplanned,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Shift {
    #[schema(value_type = String)]
    pub id: ShiftId,
    pub kind: ShiftKind,
    #[schema(value_type = String)]
    pub site_id: SiteId,
    #[schema(value_type = String)]
    pub employee_id: UserId,
    #[serde(with = "utc")]
    pub start: DateTime<Utc>,
    /// For an unplanned shift, the end of the clock-in window it was made for; the time entry
    /// says when the employee actually left.
    #[serde(with = "utc")]
    pub end: DateTime<Utc>,
    pub position: Option<String>,
    #[serde(with = "utc")]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub created_by: UserId,
    /// Set when the employee was released from the shift (terminated): it stays on the site's
    /// schedule, open, and `employee_id` names who had it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "utc::option")]
    pub released_at: Option<DateTime<Utc>>,
}

impl Shift {
    /// Whether someone clocking in at `now` belongs to this shift: from `early` before its start
    /// until its end.
    pub fn window_contains(&self, now: DateTime<Utc>, early: chrono::Duration) -> bool {
        self.start - early <= now && now < self.end
    }

    /// The two items of a new shift, each required not to exist.
    pub fn create_ops(&self, org: &OrgSlug) -> Result<Vec<TxOp>, AppError> {
        let site = super::item(super::keys::site_shift(org, &self.site_id, self.start, &self.id), KIND, self)?;
        let user = super::item(super::keys::user_shift(org, &self.employee_id, self.start, &self.id), KIND, self)?;
        Ok(vec![TxOp::put(site, Condition::NotExists), TxOp::put(user, Condition::NotExists)])
    }
}

/// The version of an employee's schedule (0: never changed). Whoever adds a shift to the
/// schedule (a scheduler, or a clock-in that makes an unplanned shift) reads it before looking
/// for overlaps and writes [`schedule_moved_on`] in the same transaction: two that raced cannot
/// both commit.
pub async fn schedule_version(
    store: &dyn crate::store::Store,
    org: &OrgSlug,
    user: &UserId,
) -> crate::store::StoreResult<u64> {
    Ok(store.get(&super::keys::schedule_version(org, user)).await?.map_or(0, |i| i.version))
}

/// The write that moves an employee's schedule version on from the `version` read.
pub fn schedule_moved_on(org: &OrgSlug, user: &UserId, version: u64, now: DateTime<Utc>) -> Result<TxOp, AppError> {
    let mut marker = super::item(
        super::keys::schedule_version(org, user),
        "schedule-version",
        &serde_json::json!({ "changed_at": now }),
    )?;
    marker.version = version + 1;
    Ok(TxOp::put(marker, super::written_over(version)))
}

/// Parses shift items of a query.
pub fn parse_all(items: &[Item]) -> Result<Vec<Shift>, AppError> {
    Ok(items.iter().filter(|i| i.kind == KIND).map(Item::parse::<Shift>).collect::<Result<_, _>>()?)
}
