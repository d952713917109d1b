//! Log-in rate limiting: failed attempts per email and per client address in a sliding
//! window, kept in memory.
//!
//! Per instance: behind a load balancer with N instances an attacker gets up to N times
//! the limit. That still turns an online guessing attack from millions of tries into
//! dozens, which is the point; a shared store can come when there are many instances.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Failures allowed per email within [`WINDOW`].
pub const PER_EMAIL: usize = 10;
/// Failures allowed per client address within [`WINDOW`].
pub const PER_ADDRESS: usize = 50;
/// The sliding window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Past this many tracked keys, expired ones are swept on the next failure, so memory
/// stays bounded by the attempts of one window.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Email(String),
    Address(IpAddr),
}

/// Counts failed log-ins. Cheap to clone; clones share the counts.
#[derive(Clone, Default)]
pub struct LoginLimiter {
    failures: Arc<Mutex<HashMap<Key, VecDeque<Instant>>>>,
}

impl LoginLimiter {
    /// Refuses with [`Error::RateLimited`] when `email` or `address` has used up its
    /// failures in the window.
    pub fn check(&self, email: &str, address: Option<IpAddr>) -> Result<()> {
        self.check_at(Instant::now(), email, address)
    }

    /// Counts one failed attempt.
    pub fn record_failure(&self, email: &str, address: Option<IpAddr>) {
        self.record_failure_at(Instant::now(), email, address);
    }

    /// Forgets the failures of `email` after a successful log-in (the address keeps its
    /// count: one success must not reset a spray across many accounts).
    pub fn record_success(&self, email: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&Key::Email(email.to_owned()));
        }
    }

    fn check_at(&self, now: Instant, email: &str, address: Option<IpAddr>) -> Result<()> {
        let Ok(mut failures) = self.failures.lock() else {
            return Ok(());
        };
        let mut wait = Duration::ZERO;
        for (key, limit) in keys(email, address) {
            if let Some(times) = failures.get_mut(&key) {
                prune(times, now);
                if times.len() >= limit
                    && let Some(oldest) = times.front()
                {
                    wait = wait.max(WINDOW.saturating_sub(now.duration_since(*oldest)));
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(Error::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            })
        }
    }

    fn record_failure_at(&self, now: Instant, email: &str, address: Option<IpAddr>) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        if failures.len() > SWEEP_ABOVE {
            failures.retain(|_, times| {
                prune(times, now);
                !times.is_empty()
            });
        }
        for (key, limit) in keys(email, address) {
            let times = failures.entry(key).or_default();
            prune(times, now);
            times.push_back(now);
            // Only the newest `limit` matter for the decision.
            while times.len() > limit {
                times.pop_front();
            }
        }
    }
}

fn keys(email: &str, address: Option<IpAddr>) -> impl Iterator<Item = (Key, usize)> {
    std::iter::once((Key::Email(email.to_owned()), PER_EMAIL))
        .chain(address.map(|address| (Key::Address(address), PER_ADDRESS)))
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|oldest| now.duration_since(*oldest) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));

    #[test]
    fn the_eleventh_attempt_for_an_email_is_refused_until_the_window_passes() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        for i in 0..PER_EMAIL {
            assert!(
                limiter.check_at(start, "ann@x.io", HOME).is_ok(),
                "attempt {i}"
            );
            limiter.record_failure_at(start, "ann@x.io", HOME);
        }
        match limiter.check_at(start, "ann@x.io", HOME) {
            Err(Error::RateLimited { retry_after_secs }) => {
                assert_eq!(retry_after_secs, WINDOW.as_secs());
            }
            other => panic!("expected RATE_LIMITED, got {other:?}"),
        }
        assert!(
            limiter.check_at(start, "bob@x.io", HOME).is_ok(),
            "other emails go on"
        );
        assert!(limiter.check_at(start + WINDOW, "ann@x.io", HOME).is_ok());
    }

    #[test]
    fn an_address_is_limited_across_emails() {
        let limiter = LoginLimiter::default();
        let now = Instant::now();
        for i in 0..PER_ADDRESS {
            limiter.record_failure_at(now, &format!("user{i}@x.io"), HOME);
        }
        assert!(limiter.check_at(now, "fresh@x.io", HOME).is_err());
        assert!(limiter.check_at(now, "fresh@x.io", None).is_ok());
    }

    #[test]
    fn success_clears_the_email_but_not_the_address() {
        let limiter = LoginLimiter::default();
        let now = Instant::now();
        for _ in 0..PER_EMAIL {
            limiter.record_failure_at(now, "ann@x.io", HOME);
        }
        limiter.record_success("ann@x.io");
        assert!(limiter.check_at(now, "ann@x.io", HOME).is_ok());
    }
}
