//! What the API counts for the server's metrics: refusals of the rate limits, operations the
//! planned read path left to the resolvers, and how long a chat message takes to reach a
//! subscriber. The server registers these families in its registry (`server::metrics`);
//! counting is a few atomic operations, done whether or not metrics are served.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Which rate limit refused a request.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// Failed log-ins per email and per address.
    LogIn,
    /// Chat messages per sender.
    ChatSend,
}

/// Why the planner left an operation to the resolvers (bounded: a few words).
#[derive(Debug, Clone, Copy)]
pub enum Fallback {
    /// No signed-in viewer.
    NoSession,
    /// A selection outside the planned types.
    Unplanned,
    /// Something a plan does not write (an error to report, a field it does not know).
    Resolvers,
    /// The database failed under the plan.
    Database,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FallbackLabels {
    reason: &'static str,
}

/// The counts; cheap to clone, clones share them. Put in the schema's data as a service.
#[derive(Clone)]
pub struct Tally {
    rate_limited: Family<LimitLabels, Counter>,
    plan_fallbacks: Family<FallbackLabels, Counter>,
    fanout_lag: Histogram,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            rate_limited: Family::default(),
            plan_fallbacks: Family::default(),
            // 0.1 ms to ~3 s.
            fanout_lag: Histogram::new(exponential_buckets(0.0001, 2.0, 15)),
        }
    }
}

impl Tally {
    /// Counts a request `limit` refused.
    pub fn rate_limited(&self, limit: Limit) {
        let limit = match limit {
            Limit::LogIn => "log_in",
            Limit::ChatSend => "chat_send",
        };
        self.rate_limited
            .get_or_create(&LimitLabels { limit })
            .inc();
    }

    /// Counts an operation the planner left to the resolvers.
    pub fn plan_fallback(&self, reason: Fallback) {
        let reason = match reason {
            Fallback::NoSession => "no_session",
            Fallback::Unplanned => "unplanned_selection",
            Fallback::Resolvers => "resolvers",
            Fallback::Database => "database",
        };
        self.plan_fallbacks
            .get_or_create(&FallbackLabels { reason })
            .inc();
    }

    /// Records how long a message took from being stored to being handed to a subscriber.
    pub fn fanout_lag(&self, lag: chrono::TimeDelta) {
        // A clock that stepped back reads as no lag rather than a negative one.
        let seconds = lag.to_std().unwrap_or_default().as_secs_f64();
        self.fanout_lag.observe(seconds);
    }

    /// Registers the families in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "rate_limited",
            "Requests a rate limit refused (RATE_LIMITED), by limit",
            self.rate_limited.clone(),
        );
        registry.register(
            "planner_fallbacks",
            "Queries the planned read path left to the resolvers, by reason",
            self.plan_fallbacks.clone(),
        );
        registry.register(
            "chat_fanout_lag_seconds",
            "Time from a chat message being stored to a subscriber receiving it",
            self.fanout_lag.clone(),
        );
    }
}
