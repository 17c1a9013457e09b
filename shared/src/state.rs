//! What every operation is handed: the store, the clock, the random source, the token keys and
//! the settings. Built once at start-up (or Lambda cold start) and shared.

use std::sync::Arc;

use crate::auth::TokenKeys;
use crate::clock::{Clock, Random};
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub tokens: Arc<TokenKeys>,
    pub settings: Arc<Settings>,
    /// Which assignments' use this process already noted today (see `access::usage`).
    pub usage: Arc<crate::access::usage::UsageLog>,
    /// Where users' files are kept (S3 on AWS, the data directory locally).
    pub files: Arc<dyn crate::files::FileStore>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// Tunables that are not secrets.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Failed logins per login name within the window before it is locked.
    pub lockout_threshold: usize,
    pub lockout_window_secs: i64,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// How long before a shift's start its employee may clock in to it.
    pub early_clock_in_minutes: i64,
    /// The planned length of an unplanned shift (it ends at clock-out).
    pub unplanned_shift_hours: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            lockout_threshold: 10,
            lockout_window_secs: 15 * 60,
            max_body_bytes: 64 * 1024,
            early_clock_in_minutes: 60,
            unplanned_shift_hours: 8,
        }
    }
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// A new ULID at the current time.
    pub fn new_ulid(&self) -> ulid::Ulid {
        self.random.ulid(self.clock.now())
    }
}
