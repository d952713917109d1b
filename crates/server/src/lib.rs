//! The workgraph server as a library: `main` and the end-to-end tests start it the same way.
//!
//! Start-up order: configuration → tracing → database and migrations → schema → router →
//! serve until a shutdown signal, finishing the requests in flight.

pub mod app;
pub mod chat;
pub mod config;
pub mod conn;
pub mod cors;
pub mod db;
pub mod graphiql;
mod graphql;
pub mod media_type;
pub mod metrics;
mod respond;
pub mod telemetry;
pub mod trusted;
pub mod ws;

use std::future::Future;
use std::io;
use std::thread::available_parallelism;

use axum::Router;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use graph::account::password::Passwords;
use graph::account::rate_limit::LoginLimiter;
use graph::account::session::SessionSettings;
use graph::chat::bus::ChatBus;
use graph::chat::limit::SendLimiter;

pub use app::AppState;
pub use config::Config;

/// How many password hashes run at once unless configured: all cores but one. With every
/// core hashing, the OS makes other requests wait for a hasher's time slice, and their tail
/// latency grows tenfold (see `benches/login_latency.rs`).
pub fn default_hash_concurrency() -> usize {
    available_parallelism().map_or(1, |cores| usize::from(cores).saturating_sub(1).max(1))
}

/// The schema with the database, the services `config` asks for, chat events carried by
/// `bus`, the trusted documents if any, and what it counts for the metrics in `tally`.
fn schema(
    db: DatabaseConnection,
    config: &Config,
    bus: ChatBus,
    trusted: Option<&trusted::TrustedFile>,
    tally: graph::tally::Tally,
) -> anyhow::Result<graph::Api> {
    let hash_concurrency = config
        .hash_concurrency
        .unwrap_or_else(default_hash_concurrency);
    let chat = graph::chat::Chat {
        keys: chat::keys(config)?,
        bus,
        limiter: SendLimiter::new(config.chat_sends_per_minute),
    };
    let services = graph::Services {
        passwords: Passwords::new(hash_concurrency),
        login_limiter: LoginLimiter::default(),
        sessions: SessionSettings {
            ttl: chrono::Duration::days(i64::from(config.session_ttl_days)),
        },
        chat,
        tally,
    };
    let settings = graph::Settings {
        limits: graph::query_limits::Limits {
            max_depth: config.max_query_depth,
            max_complexity: config.max_query_cost,
            max_aliases: config.max_aliases,
            max_document_chars: config.max_query_chars,
            introspection: config.introspection.unwrap_or(true),
            ..graph::query_limits::Limits::default()
        },
        persisted_queries: config.persisted_queries,
        trusted: trusted.map(trusted::TrustedFile::documents),
    };
    Ok(graph::build_with(db, services, settings))
}

/// The full router for an open, migrated database. Fails when the chat keys are missing
/// or malformed, the CORS origins are not origins, the trusted documents can't be read, or
/// PostgreSQL refuses the chat listener.
pub async fn app(db: DatabaseConnection, config: &Config) -> anyhow::Result<Router> {
    Ok(build(db, config).await?.router)
}

/// What [`build`] makes: the router, and what a signal handler may reload under it.
pub struct App {
    pub router: Router,
    /// `GET /metrics` alone, to serve on `WORKGRAPH_METRICS_ADDR` when that is set (then
    /// [`App::router`] has no `/metrics`).
    pub metrics_router: Option<Router>,
    /// `WORKGRAPH_TRUSTED_DOCUMENTS`, when set: [`trusted::TrustedFile::reload`] puts the
    /// file's current list in force (`main` calls it on SIGHUP).
    pub trusted_documents: Option<trusted::TrustedFile>,
}

/// [`app`], with the handles for reloading what can be reloaded while serving.
pub async fn build(mut db: DatabaseConnection, config: &Config) -> anyhow::Result<App> {
    let trusted_documents = match &config.trusted_documents {
        // Untrusted introspection only when the operator asked for introspection.
        Some(path) => Some(trusted::TrustedFile::load(
            path,
            config.introspection == Some(true),
        )?),
        None => None,
    };
    let statements = app::StatementCounter::default();
    let counter = statements.clone();
    db.set_metric_callback(move |_| counter.increment());
    let cors = cors::layer(&config.cors_origins)?;
    let bus = chat::bus(&db, config).await?;
    let tally = graph::tally::Tally::default();
    let metrics = if config.metrics {
        metrics::Metrics::new(&tally)
    } else {
        metrics::Metrics::off()
    };
    let schema = schema(
        db.clone(),
        config,
        bus.clone(),
        trusted_documents.as_ref(),
        tally,
    )?;
    let ws = ws::WsSettings {
        metrics: metrics.clone(),
        ..ws::WsSettings::new(config)
    };
    let state = AppState {
        schema,
        db,
        chat_bus: bus,
        statements,
        limits: app::HttpLimits::new(config),
        ws,
        metrics,
    };
    let metrics_router = (config.metrics && config.metrics_addr.is_some())
        .then(|| app::metrics_router(state.clone()));
    let router = app::router(state, config.metrics && config.metrics_addr.is_none());
    let router = match cors {
        Some(cors) => router.layer(cors),
        None => router,
    };
    Ok(App {
        router,
        metrics_router,
        trusted_documents,
    })
}

/// Serves `router` on `listener` with the connection limits of `settings` until
/// `shutdown` resolves, then stops accepting and returns once the requests in flight are
/// answered.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: conn::ConnectionSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    conn::serve(listener, router, settings, shutdown).await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, finishing requests in flight");
}
