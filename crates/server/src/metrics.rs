//! Prometheus metrics: `GET /metrics` in the OpenMetrics text format, on the main address or
//! on `WORKGRAPH_METRICS_ADDR` alone.
//!
//! Built on `prometheus-client`, the Prometheus project's own Rust client: a registry is a
//! value, not a process-wide global, so each server (and each test's server in one process)
//! counts only its own requests; label sets are types, so every label takes values from a
//! closed list; and it has no dependency beyond its derive macros.
//!
//! Label values are bounded: a transport and an operation type are one of a few words, an
//! outcome is `ok` or one of the codes of [`graph::error::code::ALL`] (anything else is
//! `OTHER`), and the latency family has a series for at most about [`MAX_OPERATION_NAMES`]
//! operation names (the first the instance answered); later ones are `(other)`, an
//! operation without a name `(anonymous)` and a batch `(batch)`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_graphql::parser::types::OperationType;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sea_orm::{DatabaseBackend, DatabaseConnection};

use crate::app::AppState;

/// How many distinct operation names get a latency series of their own.
pub const MAX_OPERATION_NAMES: usize = 100;

/// The media type of [`serve`]'s answer.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Where a request came in.
#[derive(Debug, Clone, Copy)]
pub enum Transport {
    Http,
    WebSocket,
}

impl Transport {
    fn label(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::WebSocket => "websocket",
        }
    }
}

/// The label of an operation type; `unknown` for a request refused before its document was
/// read, or whose document names no operation it has.
pub fn operation_label(ty: Option<OperationType>) -> &'static str {
    match ty {
        Some(OperationType::Query) => "query",
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        None => "unknown",
    }
}

/// `ok` for a response without errors, else the code of its first error.
pub fn outcome(errors: &[async_graphql::ServerError]) -> &'static str {
    let Some(error) = errors.first() else {
        return "ok";
    };
    let code = error
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("code"));
    match code {
        Some(async_graphql::Value::String(code)) => code_label(code),
        _ => "OTHER",
    }
}

/// A code as a label: one of the listed codes, else `OTHER`.
pub fn code_label(code: &str) -> &'static str {
    graph::error::code::ALL
        .iter()
        .find(|(listed, _)| *listed == code)
        .map_or("OTHER", |(listed, _)| listed)
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    transport: &'static str,
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NameLabels {
    operation_name: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

/// The instance's metrics, or nothing when they are turned off: then recording costs a
/// branch. Cheap to clone; clones share the counts.
#[derive(Clone, Default)]
pub struct Metrics(Option<Arc<Families>>);

struct Families {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<NameLabels, Histogram, fn() -> Histogram>,
    statements: Histogram,
    db_connections: Family<StateLabels, Gauge>,
    websockets: Gauge,
    subscriptions: Gauge,
    /// How many operation names have a latency series.
    named: AtomicUsize,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Metrics {
    /// Metrics that record, registered under `workgraph_`, with what the API counts in
    /// `tally`.
    pub fn new(tally: &graph::tally::Tally) -> Self {
        let mut registry = Registry::with_prefix("workgraph");
        tally.register(&mut registry);
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL operations answered, by transport, operation type and outcome (ok or the first error's code)",
            requests.clone(),
        );
        let durations = Family::<NameLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "graphql_operation_duration_seconds",
            "Time to answer an operation (a batch as one), by operation name",
            durations.clone(),
        );
        let statements =
            Histogram::new([0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0, 89.0]);
        registry.register(
            "sql_statements_per_request",
            "SQL statements one HTTP request ran",
            statements.clone(),
        );
        let db_connections = Family::<StateLabels, Gauge>::default();
        registry.register(
            "db_connections",
            "Database pool connections, in use and idle",
            db_connections.clone(),
        );
        let websockets = Gauge::default();
        registry.register(
            "websockets_open",
            "GraphQL WebSockets open (initialised)",
            websockets.clone(),
        );
        let subscriptions = Gauge::default();
        registry.register(
            "subscriptions_active",
            "GraphQL subscriptions running, over every WebSocket",
            subscriptions.clone(),
        );
        Self(Some(Arc::new(Families {
            registry,
            requests,
            durations,
            statements,
            db_connections,
            websockets,
            subscriptions,
            named: AtomicUsize::new(0),
        })))
    }

    /// Metrics that record nothing.
    pub fn off() -> Self {
        Self(None)
    }

    /// Counts one answered operation.
    pub fn request(&self, transport: Transport, operation: &'static str, outcome: &'static str) {
        if let Some(families) = &self.0 {
            families
                .requests
                .get_or_create(&RequestLabels {
                    transport: transport.label(),
                    operation,
                    outcome,
                })
                .inc();
        }
    }

    /// Records how long `what` took.
    pub fn duration(&self, what: Timed<'_>, took: Duration) {
        if let Some(families) = &self.0 {
            let operation_name = match what {
                Timed::Operation(name) => families.name_label(name),
                Timed::Batch => "(batch)".to_owned(),
            };
            families
                .durations
                .get_or_create(&NameLabels { operation_name })
                .observe(took.as_secs_f64());
        }
    }

    /// Records how many SQL statements one HTTP request ran.
    pub fn statements(&self, count: u64) {
        if let Some(families) = &self.0 {
            // Counts stay far below 2^53: exact as a float.
            #[allow(clippy::cast_precision_loss)]
            families.statements.observe(count as f64);
        }
    }

    /// Counts a subscription as running until the answer is dropped.
    pub fn subscription(&self) -> Running {
        Running(self.0.as_ref().map(|families| {
            families.subscriptions.inc();
            families.subscriptions.clone()
        }))
    }

    /// The registry as text, with the gauges read from `state` now.
    fn encode(&self, state: &AppState) -> Option<String> {
        let families = self.0.as_ref()?;
        let (size, idle) = pool_counts(&state.db);
        families
            .db_connections
            .get_or_create(&StateLabels { state: "in_use" })
            .set(i64::from(size).saturating_sub(i64::try_from(idle).unwrap_or(i64::MAX)));
        families
            .db_connections
            .get_or_create(&StateLabels { state: "idle" })
            .set(i64::try_from(idle).unwrap_or(i64::MAX));
        families
            .websockets
            .set(i64::try_from(state.ws.sockets.open_count()).unwrap_or(i64::MAX));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &families.registry).ok()?;
        Some(text)
    }
}

/// What a latency is recorded for.
#[derive(Debug, Clone, Copy)]
pub enum Timed<'a> {
    /// One operation, by name (`None`: anonymous).
    Operation(Option<&'a str>),
    /// A batch, as one.
    Batch,
}

/// A running subscription, counted until dropped ([`Metrics::subscription`]).
pub struct Running(Option<Gauge>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(gauge) = &self.0 {
            gauge.dec();
        }
    }
}

impl Families {
    /// `name`'s label: its own when it has a latency series already, or while fewer than
    /// [`MAX_OPERATION_NAMES`] names have one; else `(other)`. Two requests at once may
    /// count one new name twice: the bound holds, it is not exact.
    fn name_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "(anonymous)".to_owned();
        };
        let labels = NameLabels {
            operation_name: name.to_owned(),
        };
        if self.durations.get(&labels).is_some() {
            return labels.operation_name;
        }
        if self.named.load(Ordering::Relaxed) < MAX_OPERATION_NAMES {
            self.named.fetch_add(1, Ordering::Relaxed);
            return labels.operation_name;
        }
        "(other)".to_owned()
    }
}

/// The pool's open connections and how many of them are idle.
fn pool_counts(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

/// `GET /metrics`.
pub async fn serve(State(state): State<AppState>) -> Response {
    match state.metrics.encode(&state) {
        Some(text) => ([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_past_the_cap_share_one_label() {
        let metrics = Metrics::new(&graph::tally::Tally::default());
        let Some(families) = &metrics.0 else {
            panic!("metrics are on");
        };
        for n in 0..MAX_OPERATION_NAMES {
            let name = format!("op{n}");
            metrics.duration(Timed::Operation(Some(&name)), Duration::ZERO);
            let series = NameLabels {
                operation_name: name,
            };
            assert!(families.durations.get(&series).is_some());
        }
        assert_eq!(families.name_label(Some("op0")), "op0");
        assert_eq!(families.name_label(Some("late")), "(other)");
        assert_eq!(families.name_label(None), "(anonymous)");
    }

    #[test]
    fn an_unlisted_code_is_other() {
        assert_eq!(code_label("NOT_FOUND"), "NOT_FOUND");
        assert_eq!(code_label("made up"), "OTHER");
    }
}
