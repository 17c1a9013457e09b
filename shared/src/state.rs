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
    /// How many password hashes may run at once (memory: 19 MiB each).
    pub hashing: Arc<crate::auth::password::HashGate>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// Tunables that are not secrets.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Failed logins against an account within the window before its attempts are held up.
    pub lockout_threshold: usize,
    pub lockout_window_secs: i64,
    /// Login attempts one client address may make in a burst, per organisation, and how many
    /// more it gets each minute.
    pub address_attempts_burst: u32,
    pub address_attempts_per_minute: u32,
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
            address_attempts_burst: 30,
            address_attempts_per_minute: 30,
            max_body_bytes: 64 * 1024,
            early_clock_in_minutes: 60,
            unplanned_shift_hours: 8,
        }
    }
}

impl Settings {
    /// The limits on password guessing (`auth::attempts`).
    pub fn attempt_limits(&self) -> crate::auth::attempts::Limits {
        crate::auth::attempts::Limits {
            threshold: self.lockout_threshold,
            window: chrono::Duration::seconds(self.lockout_window_secs),
            bucket_capacity: f64::from(self.address_attempts_burst),
            refill_per_minute: f64::from(self.address_attempts_per_minute),
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
