//! `from` / `to` query parameters of time-bounded listings.

use chrono::{DateTime, Duration, Utc};
use guardpost_shared::domain::schema;
use guardpost_shared::http::PageParams;
use guardpost_shared::{AppError, AppResult};
use serde::Deserialize;
use utoipa::IntoParams;

/// The widest window one listing covers.
pub const MAX_DAYS: i64 = 93;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// RFC 3339; default 7 days before `to`.
    #[param(value_type = Option<guardpost_shared::domain::Timestamp>)]
    pub from: Option<String>,
    /// RFC 3339; default 7 days after now for shifts, now for time entries.
    #[param(value_type = Option<guardpost_shared::domain::Timestamp>)]
    pub to: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(value_type = Option<schema::Cursor>)]
    pub cursor: Option<String>,
}

impl RangeParams {
    pub fn page(&self) -> PageParams {
        PageParams { limit: self.limit, cursor: self.cursor.clone() }
    }

    /// The window, defaulting `to` to `default_to`, and `from` to a week before `to`.
    pub fn window(&self, default_to: DateTime<Utc>) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
        let parse = |field: &str, raw: &str| {
            guardpost_shared::domain::Timestamp::parse(raw)
                .map(guardpost_shared::domain::Timestamp::get)
                .map_err(|e| AppError::invalid(field, e.to_string()))
        };
        let to = self.to.as_deref().map(|t| parse("to", t)).transpose()?.unwrap_or(default_to);
        let from = self.from.as_deref().map(|f| parse("from", f)).transpose()?.unwrap_or(to - Duration::days(7));
        if from >= to {
            return Err(AppError::invalid("from", "must be before to"));
        }
        if to - from > Duration::days(MAX_DAYS) {
            return Err(AppError::invalid("to", format!("the window may cover at most {MAX_DAYS} days")));
        }
        Ok((from, to))
    }
}
