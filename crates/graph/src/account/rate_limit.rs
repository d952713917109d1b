//! Log-in rate limiting: failed attempts per email and per client address in a sliding
//! window, kept in memory.
//!
//! Per instance: behind a load balancer with N instances an attacker gets up to N times
//! the limit. That still turns an online guessing attack from millions of tries into
//! dozens, which is the point; a shared store can come when there are many instances.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::sliding_window::SlidingWindow;

/// Failures allowed per email within [`WINDOW`].
pub const PER_EMAIL: usize = 10;
/// Failures allowed per client address within [`WINDOW`].
pub const PER_ADDRESS: usize = 50;
/// The sliding window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Email(String),
    Address(IpAddr),
}

/// Counts failed log-ins. Cheap to clone; clones share the counts.
#[derive(Clone)]
pub struct LoginLimiter {
    failures: SlidingWindow<Key>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self {
            failures: SlidingWindow::new(WINDOW),
        }
    }
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
        self.failures.forget(&Key::Email(email.to_owned()));
    }

    fn check_at(&self, now: Instant, email: &str, address: Option<IpAddr>) -> Result<()> {
        let wait = keys(email, address)
            .map(|(key, limit)| self.failures.wait(now, &key, limit))
            .max()
            .unwrap_or(Duration::ZERO);
        if wait.is_zero() {
            Ok(())
        } else {
            Err(Error::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            })
        }
    }

    fn record_failure_at(&self, now: Instant, email: &str, address: Option<IpAddr>) {
        for (key, limit) in keys(email, address) {
            self.failures.record(now, key, limit);
        }
    }
}

fn keys(email: &str, address: Option<IpAddr>) -> impl Iterator<Item = (Key, usize)> {
    std::iter::once((Key::Email(email.to_owned()), PER_EMAIL))
        .chain(address.map(|address| (Key::Address(address), PER_ADDRESS)))
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
