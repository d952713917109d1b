//! Per-sender rate limit on chat messages: a sliding window in memory, per instance (as
//! the log-in limit; see `account::rate_limit`).

use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::sliding_window::SlidingWindow;

/// Messages a sender may send per [`WINDOW`] unless configured.
pub const DEFAULT_PER_MINUTE: u32 = 30;
/// The sliding window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Counts sends per user. Cheap to clone; clones share the counts.
#[derive(Clone)]
pub struct SendLimiter {
    per_window: usize,
    sent: SlidingWindow<Uuid>,
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
            sent: SlidingWindow::new(WINDOW),
        }
    }

    /// Counts one message by `sender`, or refuses with `RATE_LIMITED` when the window is
    /// full (a refused attempt does not count).
    pub fn take(&self, sender: Uuid) -> Result<()> {
        self.take_at(Instant::now(), sender)
    }

    fn take_at(&self, now: Instant, sender: Uuid) -> Result<()> {
        self.sent
            .take(now, sender, self.per_window)
            .map_err(|wait| Error::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            })
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
