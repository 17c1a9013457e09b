//! Time entries: one clock-in to clock-out at a site, attached to a shift, with its breaks.
//! Server time is the time of record.

use crate::domain::utc;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{OrgSlug, ShiftId, SiteId, TimeEntryId, UserId};
use crate::error::AppError;
use crate::store::Item;

pub const KIND: &str = "time-entry";
pub const CLOCK_KIND: &str = "clock-state";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy_m: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Break {
    #[serde(with = "utc")]
    pub start: DateTime<Utc>,
    #[serde(default, with = "utc::option")]
    pub end: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimeEntry {
    #[schema(value_type = String)]
    pub id: TimeEntryId,
    #[schema(value_type = String)]
    pub employee_id: UserId,
    #[schema(value_type = String)]
    pub site_id: SiteId,
    #[schema(value_type = String)]
    pub shift_id: ShiftId,
    /// True when the shift was made at clock-in because none was scheduled.
    pub unplanned: bool,
    #[serde(with = "utc")]
    pub clock_in: DateTime<Utc>,
    #[serde(default, with = "utc::option")]
    pub clock_out: Option<DateTime<Utc>>,
    pub breaks: Vec<Break>,
    pub clock_in_location: Option<Location>,
    pub clock_in_note: Option<String>,
    pub clock_out_location: Option<Location>,
    pub clock_out_note: Option<String>,
    /// A client's approval of the closed entry (ClickTime's timesheet "Maintain").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    #[serde(with = "utc")]
    pub at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub by: UserId,
}

impl TimeEntry {
    pub fn on_break(&self) -> bool {
        self.breaks.last().is_some_and(|b| b.end.is_none())
    }

    pub fn item(&self, org: &OrgSlug, version: u64) -> Result<Item, AppError> {
        let mut item =
            super::item(super::keys::time_entry(org, &self.employee_id, self.clock_in, &self.id), KIND, self)?
                .with_gsi1(super::keys::site_time_entry_index(org, &self.site_id, self.clock_in, &self.id));
        item.version = version;
        Ok(item)
    }
}

/// Where an employee is clocked in right now: a copy of the open entry and the version of the
/// entry's own item, so that a transition reads one item and writes both. Exists only while
/// the employee is clocked in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClockState {
    pub entry: TimeEntry,
    pub entry_version: u64,
}

impl ClockState {
    pub fn item(&self, org: &OrgSlug, user: &UserId, version: u64) -> Result<Item, AppError> {
        let mut item = super::item(super::keys::clock_state(org, user), CLOCK_KIND, self)?;
        item.version = version;
        Ok(item)
    }
}
