//! The rules that slow down password guessing, as pure functions over what is stored.
//!
//! - Failures count against the account (its user id), whichever login name was typed (email or
//!   username); for a login nobody has, against the name, so both cost the same.
//! - After `threshold` failures within the window the account is not locked for good: each
//!   further failure doubles a delay (1 minute, 2, 4, 8, up to the window) during which attempts
//!   are refused unseen; a device that logged in to the account before is not held up, so an
//!   attacker who keeps an account "locked" does not keep its owner out.
//! - Every client address has a token bucket per organisation: a burst of `capacity` attempts,
//!   then `refill_per_minute`; spraying one password over every account runs dry at once.

use crate::domain::utc;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Recent failed attempts against one account (or one unknown login name).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Failures {
    pub attempts: Vec<DateTime<Utc>>,
}

/// The settings of the rules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub threshold: usize,
    pub window: Duration,
    pub bucket_capacity: f64,
    pub refill_per_minute: f64,
}

impl Failures {
    /// Until when attempts are held up, if they are now: after `threshold` failures in the
    /// window, a delay from the last one that doubles with each failure beyond it, at most the
    /// window.
    pub fn held_until(&self, limits: &Limits, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let recent: Vec<_> = self.attempts.iter().filter(|t| **t > now - limits.window).collect();
        if recent.len() < limits.threshold {
            return None;
        }
        let beyond = u32::try_from(recent.len() - limits.threshold).unwrap_or(u32::MAX).min(16);
        let delay = (Duration::minutes(1) * 2_i32.pow(beyond)).min(limits.window);
        let last = recent.into_iter().max().copied()?;
        (now < last + delay).then_some(last + delay)
    }

    /// This attempt counted: those older than the window are forgotten.
    pub fn with(&self, limits: &Limits, now: DateTime<Utc>) -> Self {
        let mut attempts: Vec<_> = self.attempts.iter().copied().filter(|t| *t > now - limits.window).collect();
        attempts.push(now);
        Self { attempts }
    }
}

/// A client address's token bucket.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub tokens: f64,
    #[serde(with = "utc")]
    pub at: DateTime<Utc>,
}

impl Bucket {
    /// The bucket after one attempt now, or the seconds until one is allowed.
    pub fn take(current: Option<&Bucket>, limits: &Limits, now: DateTime<Utc>) -> Result<Bucket, u64> {
        let per_second = limits.refill_per_minute / 60.0;
        let tokens = match current {
            Some(b) => {
                let elapsed = (now - b.at).num_milliseconds().max(0) as f64 / 1000.0;
                (b.tokens + elapsed * per_second).min(limits.bucket_capacity)
            }
            None => limits.bucket_capacity,
        };
        if tokens < 1.0 {
            let wait = if per_second > 0.0 { ((1.0 - tokens) / per_second).ceil() } else { 60.0 };
            return Err(wait.max(1.0) as u64);
        }
        Ok(Bucket { tokens: tokens - 1.0, at: now })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits { threshold: 10, window: Duration::minutes(15), bucket_capacity: 30.0, refill_per_minute: 30.0 }
    }

    #[test]
    fn ten_failures_hold_attempts_for_a_minute_and_each_more_doubles_it() {
        let now = Utc::now();
        let mut f = Failures::default();
        for _ in 0..9 {
            f = f.with(&limits(), now);
        }
        assert_eq!(f.held_until(&limits(), now), None);
        f = f.with(&limits(), now);
        assert_eq!(f.held_until(&limits(), now), Some(now + Duration::minutes(1)));
        assert_eq!(f.held_until(&limits(), now + Duration::minutes(1)), None, "the delay is over");
        let later = now + Duration::minutes(1);
        f = f.with(&limits(), later);
        assert_eq!(f.held_until(&limits(), later), Some(later + Duration::minutes(2)));
        for _ in 0..10 {
            f = f.with(&limits(), later);
        }
        assert_eq!(f.held_until(&limits(), later), Some(later + Duration::minutes(15)), "at most the window");
        assert_eq!(f.held_until(&limits(), later + Duration::minutes(16)), None, "the window forgets");
    }

    #[test]
    fn an_address_gets_a_burst_then_the_refill_rate() {
        let now = Utc::now();
        let mut bucket = None;
        for _ in 0..30 {
            bucket =
                Some(Bucket::take(bucket.as_ref(), &limits(), now).unwrap_or_else(|w| panic!("refused, wait {w}")));
        }
        assert_eq!(Bucket::take(bucket.as_ref(), &limits(), now), Err(2), "one token every 2 seconds");
        assert!(Bucket::take(bucket.as_ref(), &limits(), now + Duration::seconds(2)).is_ok());
    }
}
