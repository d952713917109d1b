//! Per-sender rate limit on chat messages: a sliding window in memory, per instance (as
//! the log-in limit; see `account::rate_limit`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::error::{Error, Result};

/// Messages a sender may send per [`WINDOW`] unless configured.
pub const DEFAULT_PER_MINUTE: u32 = 30;
/// The sliding window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Past this many tracked senders, idle ones are swept, so memory stays bounded by the
/// senders of one window.
const SWEEP_ABOVE: usize = 10_000;

/// Counts sends per user. Cheap to clone; clones share the counts.
#[derive(Clone)]
pub struct SendLimiter {
    per_window: usize,
    sent: Arc<Mutex<HashMap<Uuid, VecDeque<Instant>>>>,
}

impl Default for SendLimiter {
    fn default() -> Self {
        Self::new(DEFAULT_PER_MINUTE)
    }
}

impl SendLimiter {
    /// `per_minute` messages per sender per minute (at least one).
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_window: usize::try_from(per_minute.max(1)).unwrap_or(usize::MAX),
            sent: Arc::default(),
        }
    }

    /// Counts one message by `sender`, or refuses with `RATE_LIMITED` when the window is
    /// full (a refused attempt does not count).
    pub fn take(&self, sender: Uuid) -> Result<()> {
        self.take_at(Instant::now(), sender)
    }

    fn take_at(&self, now: Instant, sender: Uuid) -> Result<()> {
        let Ok(mut sent) = self.sent.lock() else {
            return Ok(());
        };
        if sent.len() > SWEEP_ABOVE {
            sent.retain(|_, times| {
                prune(times, now);
                !times.is_empty()
            });
        }
        let times = sent.entry(sender).or_default();
        prune(times, now);
        if times.len() >= self.per_window
            && let Some(oldest) = times.front()
        {
            let wait = WINDOW.saturating_sub(now.duration_since(*oldest));
            return Err(Error::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        times.push_back(now);
        Ok(())
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|at| now.duration_since(*at) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_refuses_until_its_oldest_send_expires() {
        let limiter = SendLimiter::new(2);
        let start = Instant::now();
        let alice = Uuid::now_v7();
        limiter.take_at(start, alice).unwrap();
        limiter.take_at(start, alice).unwrap();
        let Err(Error::RateLimited { retry_after_secs }) =
            limiter.take_at(start + Duration::from_secs(10), alice)
        else {
            panic!("the third send in a minute is refused");
        };
        assert_eq!(retry_after_secs, 50);
        // Others are not affected, and the window slides.
        limiter.take_at(start, Uuid::now_v7()).unwrap();
        limiter.take_at(start + WINDOW, alice).unwrap();
    }
}
