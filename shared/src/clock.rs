//! Time and randomness are injected: domain code never reads the wall clock or the OS random
//! source directly, so tests control shift windows, token expiry and lockout windows.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to (tests, benchmarks).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Identifiers and secrets.
pub trait Random: Send + Sync {
    /// A new ULID for the given time.
    fn ulid(&self, at: DateTime<Utc>) -> ulid::Ulid;
    /// `n` bytes from a cryptographically secure source.
    fn bytes(&self, n: usize) -> Vec<u8>;
}

/// The operating system's secure random source.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn ulid(&self, at: DateTime<Utc>) -> ulid::Ulid {
        let mut buf = [0u8; 16];
        fill(&mut buf);
        let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
        ulid::Ulid::from_parts(ms, u128::from_le_bytes(buf))
    }
    fn bytes(&self, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        fill(&mut buf);
        buf
    }
}

fn fill(buf: &mut [u8]) {
    // The OS random source failing is not something a server can continue through.
    #[allow(clippy::expect_used)]
    getrandom::fill(buf).expect("the operating system's random source failed");
}
