//! Counting events per key in a sliding window, in memory, per instance: the log-in limit
//! (`account::rate_limit`) and the chat send limit (`chat::limit`) both stand on it.
//!
//! A key keeps the times of at most its limit's newest events, and past [`SWEEP_ABOVE`]
//! keys the expired ones are swept on a write (at most once a second), so memory stays
//! bounded by what one window holds. A panic while the lock was held does not switch a limit off: the counts
//! are still consistent (each change is one push or pop), and the next caller uses them.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Past this many tracked keys, expired ones are swept on a write, at most once per
/// [`SWEEP_EVERY`] (a sweep reads every key under the lock).
const SWEEP_ABOVE: usize = 10_000;
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The events per key of the last `window`. Cheap to clone; clones share the counts.
#[derive(Clone)]
pub struct SlidingWindow<K> {
    window: Duration,
    events: Arc<Mutex<Events<K>>>,
}

/// The times per key, and when they were last swept.
struct Events<K> {
    times: HashMap<K, VecDeque<Instant>>,
    swept: Option<Instant>,
}

impl<K: Eq + Hash> SlidingWindow<K> {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            events: Arc::new(Mutex::new(Events {
                times: HashMap::new(),
                swept: None,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Events<K>> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long until `key` may have another event at `now`, with `limit` allowed per
    /// window: zero when it may now.
    pub fn wait(&self, now: Instant, key: &K, limit: usize) -> Duration {
        let mut events = self.lock();
        let Some(times) = events.times.get_mut(key) else {
            return Duration::ZERO;
        };
        self.wait_in(times, now, limit)
    }

    /// Counts an event of `key` at `now`, keeping only the newest `limit`.
    pub fn record(&self, now: Instant, key: K, limit: usize) {
        let mut events = self.lock();
        let times = self.entry(&mut events, now, key);
        times.push_back(now);
        while times.len() > limit {
            times.pop_front();
        }
    }

    /// Counts an event of `key` at `now` unless `limit` are in the window already; then
    /// answers how long until one may be, and counts nothing.
    pub fn take(&self, now: Instant, key: K, limit: usize) -> Result<(), Duration> {
        let mut events = self.lock();
        let times = self.entry(&mut events, now, key);
        let wait = self.wait_in(times, now, limit);
        if !wait.is_zero() {
            return Err(wait);
        }
        times.push_back(now);
        Ok(())
    }

    /// Forgets every event of `key`.
    pub fn forget(&self, key: &K) {
        self.lock().times.remove(key);
    }

    /// `key`'s times, swept of expired ones (and, with many keys, every other key too).
    fn entry<'a>(
        &self,
        events: &'a mut Events<K>,
        now: Instant,
        key: K,
    ) -> &'a mut VecDeque<Instant> {
        let due = events
            .swept
            .is_none_or(|at| now.saturating_duration_since(at) >= SWEEP_EVERY);
        if events.times.len() > SWEEP_ABOVE && due {
            events.times.retain(|_, times| {
                self.prune(times, now);
                !times.is_empty()
            });
            events.swept = Some(now);
        }
        let times = events.times.entry(key).or_default();
        self.prune(times, now);
        times
    }

    fn wait_in(&self, times: &mut VecDeque<Instant>, now: Instant, limit: usize) -> Duration {
        self.prune(times, now);
        match times.front() {
            Some(oldest) if times.len() >= limit => {
                self.window.saturating_sub(now.duration_since(*oldest))
            }
            _ => Duration::ZERO,
        }
    }

    fn prune(&self, times: &mut VecDeque<Instant>, now: Instant) {
        while times
            .front()
            .is_some_and(|oldest| now.duration_since(*oldest) >= self.window)
        {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_waits_for_its_oldest_event_and_slides() {
        let window = SlidingWindow::new(Duration::from_secs(60));
        let start = Instant::now();
        assert_eq!(window.take(start, "ann", 2), Ok(()));
        assert_eq!(window.take(start, "ann", 2), Ok(()));
        let later = start + Duration::from_secs(10);
        assert_eq!(window.take(later, "ann", 2), Err(Duration::from_secs(50)));
        assert_eq!(window.wait(later, &"ann", 2), Duration::from_secs(50));
        assert_eq!(window.take(later, "bo", 2), Ok(()), "other keys go on");
        assert_eq!(
            window.take(start + Duration::from_secs(60), "ann", 2),
            Ok(())
        );
    }

    #[test]
    fn recording_keeps_the_newest_and_forgetting_clears() {
        let window = SlidingWindow::new(Duration::from_secs(60));
        let start = Instant::now();
        for second in 0..5 {
            window.record(start + Duration::from_secs(second), "ann", 2);
        }
        let now = start + Duration::from_secs(5);
        // The two newest (at 3 s and 4 s) count: the older three were let go.
        assert_eq!(window.wait(now, &"ann", 2), Duration::from_secs(58));
        window.forget(&"ann");
        assert_eq!(window.wait(now, &"ann", 2), Duration::ZERO);
    }

    #[test]
    fn expired_keys_are_swept_once_there_are_many() {
        let window = SlidingWindow::new(Duration::from_secs(60));
        let start = Instant::now();
        for key in 0..=SWEEP_ABOVE {
            window.record(start, key, 1);
        }
        let later = start + Duration::from_secs(61);
        window.record(later, SWEEP_ABOVE + 1, 1);
        assert_eq!(window.lock().times.len(), 1, "only the fresh key is left");
    }

    #[test]
    fn a_panic_under_the_lock_leaves_the_limit_on() {
        let window = SlidingWindow::new(Duration::from_secs(60));
        let now = Instant::now();
        window.record(now, "ann", 1);
        let poisoner = window.clone();
        let _ = std::thread::spawn(move || {
            let _held = poisoner.lock();
            panic!("a bug while counting");
        })
        .join();
        assert!(window.events.is_poisoned());
        assert!(!window.wait(now, &"ann", 1).is_zero(), "still limited");
    }
}
