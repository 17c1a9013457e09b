//! Onsite time keeping: clock in and out, breaks, and the time entries they make.
//!
//! The state machine, per employee: clocked out -> (clock in) -> clocked in -> (break start)
//! -> on break -> (break end) -> clocked in -> (clock out) -> clocked out. A wrong transition is
//! 409 with a type naming the state. The `CLOCK` item exists exactly while the employee is
//! clocked in; creating it with a not-exists condition is what guarantees at most one open
//! entry, whatever the concurrency.

pub mod break_end;
pub mod break_start;
pub mod clock_in;
pub mod clock_out;
pub mod list_mine;
pub mod list_site;
mod transition;

use guardpost_shared::domain::{Comment, Validator};
use guardpost_shared::records::time_entry::Location;
use guardpost_shared::{AppError, AppResult};
use serde::Deserialize;
use utoipa::ToSchema;

/// Where the employee says they are, and an optional note. Every field is optional; the time
/// of record is the server's.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockRequest {
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    #[schema(minimum = 0, maximum = 100000)]
    pub accuracy_m: Option<f64>,
    #[schema(value_type = Option<guardpost_shared::domain::schema::Note>)]
    pub note: Option<String>,
}

impl ClockRequest {
    pub fn parse(&self) -> AppResult<(Option<Location>, Option<String>)> {
        let mut v = Validator::new();
        let location = match (self.latitude, self.longitude) {
            (Some(latitude), Some(longitude)) => {
                if !(-90.0..=90.0).contains(&latitude) {
                    v.fail("latitude", "must be between -90 and 90");
                }
                if !(-180.0..=180.0).contains(&longitude) {
                    v.fail("longitude", "must be between -180 and 180");
                }
                if self.accuracy_m.is_some_and(|a| !(0.0..=100_000.0).contains(&a)) {
                    v.fail("accuracy_m", "must be between 0 and 100000 metres");
                }
                Some(Location { latitude, longitude, accuracy_m: self.accuracy_m })
            }
            (None, None) => {
                if self.accuracy_m.is_some() {
                    v.fail("accuracy_m", "needs latitude and longitude");
                }
                None
            }
            _ => {
                v.fail("latitude", "latitude and longitude go together");
                None
            }
        };
        let note = v.check_opt("note", self.note.as_deref().map(Comment::parse));
        if self.note.as_deref().is_some_and(|n| n.chars().count() > 1000) {
            v.fail("note", "must be at most 1000 characters");
        }
        v.finish().map_err(AppError::Invalid)?;
        Ok((location, note.map(|n| n.as_str().to_owned()).filter(|n| !n.is_empty())))
    }
}
