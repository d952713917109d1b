//! Configuration: one struct, read from flags or the environment, so `--help`, the
//! environment and the README never disagree.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// workgraph: a GraphQL API for teams that run client work.
#[derive(Debug, Clone, Parser)]
#[command(name = "workgraph", version, about)]
pub struct Config {
    /// Database to use: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://workgraph.db?mode=rwc",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,

    /// Address to listen on.
    #[arg(
        long,
        env = "WORKGRAPH_ADDR",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Log filter in `tracing` syntax (e.g. `info,sqlx=warn`).
    #[arg(
        long = "log",
        env = "RUST_LOG",
        default_value = "info,sqlx=warn",
        global = true
    )]
    pub log_filter: String,

    /// Log line format.
    #[arg(long, env = "WORKGRAPH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Most connections in the database pool [default: 10 on PostgreSQL, 4 on SQLite].
    #[arg(long, env = "WORKGRAPH_DB_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub db_max_connections: Option<u32>,

    /// Seconds a statement waits for a database connection (opening one included) before
    /// the request fails with `DATABASE_UNAVAILABLE`: how fast requests fail while the
    /// database is unreachable, and how long they may queue when every connection is busy.
    #[arg(long, env = "WORKGRAPH_DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=300), global = true)]
    pub db_acquire_timeout_secs: u64,

    /// Seconds start-up keeps trying a database that does not answer (down, not up yet)
    /// before it gives up; 0 tries once. A database that refuses the credentials or lacks
    /// the database ends start-up at once.
    #[arg(long, env = "WORKGRAPH_DB_STARTUP_WAIT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3600), global = true)]
    pub db_startup_wait_secs: u64,

    /// How many days a session token stays valid after log-in.
    #[arg(long, env = "WORKGRAPH_SESSION_TTL_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365), global = true)]
    pub session_ttl_days: u32,

    /// How many password hashes may run at once (each takes 19 MiB and a core for tens of
    /// milliseconds). Defaults to one less than the number of cores (at least 1).
    #[arg(long, env = "WORKGRAPH_HASH_CONCURRENCY", global = true)]
    pub hash_concurrency: Option<usize>,

    /// Chat encryption keys, `id:base64key` entries (32-byte keys, standard base64)
    /// separated by commas; the first seals new messages, the others open older ones.
    /// Required on PostgreSQL. On SQLite, when unset, the keys are kept in a file beside
    /// the database (`<database>.chat-keys`), made on first start.
    #[arg(
        long,
        env = "WORKGRAPH_CHAT_KEYS",
        global = true,
        hide_env_values = true
    )]
    pub chat_keys: Option<String>,

    /// Chat messages one user may send per minute.
    #[arg(long, env = "WORKGRAPH_CHAT_SENDS_PER_MINUTE", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub chat_sends_per_minute: u32,

    /// Largest `POST /graphql` body in bytes (413 past it, the rest read and dropped), and
    /// largest WebSocket message.
    #[arg(long, env = "WORKGRAPH_MAX_BODY_BYTES", default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub max_body_bytes: u64,

    /// Most operations in one batched (JSON array) `POST /graphql`; 0 or 1 turns batching off.
    #[arg(long, env = "WORKGRAPH_MAX_BATCH", default_value_t = 10, global = true)]
    pub max_batch: usize,

    /// Most `/graphql` requests (`GET` and `POST`) in flight at once; past it, 503 at once.
    #[arg(long, env = "WORKGRAPH_MAX_CONCURRENT_REQUESTS", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_concurrent_requests: u32,

    /// Seconds a `/graphql` request may take, body included, before it is cut off with 504.
    #[arg(long, env = "WORKGRAPH_REQUEST_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400), global = true)]
    pub request_timeout_secs: u64,

    /// Seconds a request head (request line and headers) may take to arrive, counted from
    /// the connection's start or the head's first byte; past it, 408 and the connection
    /// is closed.
    #[arg(long, env = "WORKGRAPH_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub header_timeout_secs: u64,

    /// Seconds a keep-alive connection may wait for its next request before it is closed.
    #[arg(long, env = "WORKGRAPH_IDLE_TIMEOUT_SECS", default_value_t = 75, value_parser = clap::value_parser!(u64).range(1..=86_400), global = true)]
    pub idle_timeout_secs: u64,

    /// Seconds a client may leave the server's bytes unread (a response, a WebSocket
    /// message) before its connection is closed.
    #[arg(long, env = "WORKGRAPH_WRITE_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub write_timeout_secs: u64,

    /// Most client connections open at once, WebSockets included; past it, new ones wait in
    /// the listen backlog. Kept below the descriptor limit (less 256 for the server's own
    /// files), which is raised to its hard limit at start-up.
    #[arg(long, env = "WORKGRAPH_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_connections: u32,

    /// Deepest field nesting a query may have (introspection below `__schema` may go to 20).
    #[arg(long, env = "WORKGRAPH_MAX_QUERY_DEPTH", default_value_t = 12, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000), global = true)]
    pub max_query_depth: usize,

    /// Highest cost a query may have: a field costs 1 plus its children, a connection its
    /// `first` (default 50) times one item.
    #[arg(long, env = "WORKGRAPH_MAX_QUERY_COST", default_value_t = 50_000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..), global = true)]
    pub max_query_cost: usize,

    /// Most aliases a document may hold.
    #[arg(long, env = "WORKGRAPH_MAX_ALIASES", default_value_t = 30, value_parser = clap::builder::RangedU64ValueParser::<usize>::new(), global = true)]
    pub max_aliases: usize,

    /// Longest document, in characters.
    #[arg(long, env = "WORKGRAPH_MAX_QUERY_CHARS", default_value_t = 100_000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..), global = true)]
    pub max_query_chars: usize,

    /// Whether the API answers introspection and suggests field names in errors. On for
    /// local use and GraphiQL; turn off in production, where `schema.graphql` is what code
    /// generators read. [default: on; with trusted documents, only listed documents may
    /// introspect unless this is set to on explicitly]
    #[arg(long, env = "WORKGRAPH_INTROSPECTION", action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new(), global = true)]
    pub introspection: Option<bool>,

    /// How many automatic persisted queries (documents sent once, then by SHA-256 hash)
    /// to keep; 0 turns them off.
    #[arg(long, env = "WORKGRAPH_PERSISTED_QUERIES", default_value_t = 1_000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=100_000), global = true)]
    pub persisted_queries: usize,

    /// A `persisted-documents.json` (GraphQL Code Generator's client preset, SHA-256
    /// hashes): when set, only its documents run, by hash or by their exact text; anything
    /// else is refused with `DOCUMENT_NOT_TRUSTED`. Read again on SIGHUP.
    #[arg(long, env = "WORKGRAPH_TRUSTED_DOCUMENTS", global = true)]
    pub trusted_documents: Option<PathBuf>,

    /// Whether `GET /metrics` serves the Prometheus metrics (and the server records them).
    #[arg(long, env = "WORKGRAPH_METRICS", default_value_t = true, action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new(), global = true)]
    pub metrics: bool,

    /// A second address that serves only `GET /metrics`, so the metrics need not be public;
    /// unset, `/metrics` is on the main address.
    #[arg(long, env = "WORKGRAPH_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,

    /// Web origins allowed to call the API from a browser (CORS), comma-separated, e.g.
    /// `https://app.example.com,http://localhost:5173`. Empty: no cross-origin access.
    #[arg(
        long,
        env = "WORKGRAPH_CORS_ORIGINS",
        default_value = "",
        global = true
    )]
    pub cors_origins: String,

    /// SQLite's `synchronous` setting: `full` (an answered write survives a power cut) or
    /// `normal` (faster writes; a power cut, not a crash of the process, may lose the last
    /// answered ones).
    #[arg(long, env = "WORKGRAPH_SQLITE_SYNCHRONOUS", value_enum, default_value_t = SqliteSync::Full, global = true)]
    pub sqlite_synchronous: SqliteSync,
    /// Seconds a WebSocket may stay open without `connection_init`; past it, it is closed
    /// with 4408.
    #[arg(long, env = "WORKGRAPH_WS_INIT_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub ws_init_timeout_secs: u64,

    /// Seconds between the keep-alives sent to an initialised WebSocket (`ping` in
    /// graphql-transport-ws, `ka` in graphql-ws), so proxies don't cut idle sockets off.
    #[arg(long, env = "WORKGRAPH_WS_KEEPALIVE_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub ws_keepalive_secs: u64,

    /// Most operations one WebSocket may have running; past it, a `subscribe` is answered
    /// with an `error` (`TOO_MANY_SUBSCRIPTIONS`) and the socket stays open.
    #[arg(long, env = "WORKGRAPH_WS_MAX_SUBSCRIPTIONS", default_value_t = 100, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000), global = true)]
    pub ws_max_subscriptions: usize,

    /// Most initialised WebSockets open at once on this instance; past it, a socket that
    /// sends `connection_init` is closed with 4421.
    #[arg(long, env = "WORKGRAPH_WS_MAX_SOCKETS", default_value_t = 4_096, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000), global = true)]
    pub ws_max_sockets: usize,

    /// Most WebSockets one account may have open at once; past it, a new socket is closed
    /// with 4420 at its `connection_init`.
    #[arg(long, env = "WORKGRAPH_WS_MAX_SOCKETS_PER_USER", default_value_t = 32, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000), global = true)]
    pub ws_max_sockets_per_user: usize,

    /// What to do; serves when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// How SQLite waits for its write-ahead log to reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqliteSync {
    /// Every commit waits for the disk: an answered write is durable.
    Full,
    /// Commits wait only at checkpoints: still consistent after a crash of the process,
    /// but a power cut or an OS crash may lose the most recent answered writes.
    Normal,
}

/// The CLI's commands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print the GraphQL schema (SDL) to standard output. Needs no database.
    ExportSchema,
    /// Apply or inspect database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Re-seal every chat message under the active chat key, in batches, while the server
    /// runs. Resumable: run it again after an interruption.
    RotateChatKey {
        /// With the SQLite key file: first add a new key to the file and make it active
        /// (restart the server afterwards so new messages use it too). With
        /// `WORKGRAPH_CHAT_KEYS`, put the new key first there instead.
        #[arg(long)]
        new_key: bool,
        /// Messages per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        batch_size: u64,
    },
}

/// What `workgraph migrate` does.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the last `steps` migrations.
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List the migrations and whether each is applied.
    Status,
}

impl Config {
    /// The configuration for serving `database_url` on `addr`, with every other setting at
    /// its default: what tests and embedders start from.
    pub fn new(database_url: impl Into<String>, addr: SocketAddr) -> Self {
        Self {
            database_url: database_url.into(),
            addr,
            log_filter: "info,sqlx=warn".into(),
            log_format: LogFormat::Text,
            db_max_connections: None,
            db_acquire_timeout_secs: 3,
            db_startup_wait_secs: 30,
            session_ttl_days: 30,
            hash_concurrency: None,
            chat_keys: None,
            chat_sends_per_minute: 30,
            max_body_bytes: 1024 * 1024,
            max_batch: 10,
            max_concurrent_requests: 256,
            request_timeout_secs: 30,
            header_timeout_secs: 10,
            idle_timeout_secs: 75,
            write_timeout_secs: 30,
            max_connections: 10_000,
            max_query_depth: 12,
            max_query_cost: 50_000,
            max_aliases: 30,
            max_query_chars: 100_000,
            introspection: None,
            persisted_queries: 1_000,
            trusted_documents: None,
            metrics: true,
            metrics_addr: None,
            cors_origins: String::new(),
            sqlite_synchronous: SqliteSync::Full,
            ws_init_timeout_secs: 10,
            ws_keepalive_secs: 15,
            ws_max_subscriptions: 100,
            ws_max_sockets: 4_096,
            ws_max_sockets_per_user: 32,
            command: None,
        }
    }
}

/// `url` with any password replaced, fit for a log line or an error message.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/wg"),
            "postgres://app:***@db:5432/wg"
        );
        assert_eq!(redact_url("postgres://app@db/wg"), "postgres://app@db/wg");
        assert_eq!(
            redact_url("sqlite://workgraph.db?mode=rwc"),
            "sqlite://workgraph.db?mode=rwc"
        );
    }

    #[test]
    fn serves_by_default() {
        let config = Config::try_parse_from(["workgraph"]).expect("defaults parse");
        assert!(config.command.is_none());
        assert_eq!(config.addr.to_string(), "127.0.0.1:8000");
    }

    #[test]
    fn new_matches_the_parsed_defaults() {
        let parsed = Config::try_parse_from(["workgraph"]).expect("defaults parse");
        let new = Config::new(parsed.database_url.clone(), parsed.addr);
        assert_eq!(new.db_max_connections, parsed.db_max_connections);
        assert_eq!(new.db_acquire_timeout_secs, parsed.db_acquire_timeout_secs);
        assert_eq!(new.db_startup_wait_secs, parsed.db_startup_wait_secs);
        assert_eq!(new.max_body_bytes, parsed.max_body_bytes);
        assert_eq!(new.max_batch, parsed.max_batch);
        assert_eq!(new.max_concurrent_requests, parsed.max_concurrent_requests);
        assert_eq!(new.request_timeout_secs, parsed.request_timeout_secs);
        assert_eq!(new.max_query_depth, parsed.max_query_depth);
        assert_eq!(new.max_query_cost, parsed.max_query_cost);
        assert_eq!(new.max_aliases, parsed.max_aliases);
        assert_eq!(new.max_query_chars, parsed.max_query_chars);
        assert_eq!(new.ws_init_timeout_secs, parsed.ws_init_timeout_secs);
        assert_eq!(new.ws_keepalive_secs, parsed.ws_keepalive_secs);
        assert_eq!(new.ws_max_subscriptions, parsed.ws_max_subscriptions);
        assert_eq!(new.ws_max_sockets, parsed.ws_max_sockets);
        assert_eq!(new.ws_max_sockets_per_user, parsed.ws_max_sockets_per_user);
        assert_eq!(new.header_timeout_secs, parsed.header_timeout_secs);
        assert_eq!(new.idle_timeout_secs, parsed.idle_timeout_secs);
        assert_eq!(new.write_timeout_secs, parsed.write_timeout_secs);
        assert_eq!(new.max_connections, parsed.max_connections);
        assert_eq!(new.introspection, parsed.introspection);
        assert_eq!(new.persisted_queries, parsed.persisted_queries);
        assert_eq!(new.trusted_documents, parsed.trusted_documents);
        assert_eq!(new.metrics, parsed.metrics);
        assert_eq!(new.metrics_addr, parsed.metrics_addr);
        assert_eq!(new.cors_origins, parsed.cors_origins);
        assert_eq!(new.sqlite_synchronous, parsed.sqlite_synchronous);
    }

    #[test]
    fn introspection_can_be_turned_off() {
        for (value, expected) in [
            ("false", false),
            ("0", false),
            ("off", false),
            ("true", true),
        ] {
            let config = Config::try_parse_from(["workgraph", "--introspection", value])
                .expect("a boolean parses");
            assert_eq!(config.introspection, Some(expected), "{value}");
        }
        let config = Config::try_parse_from(["workgraph"]).expect("defaults parse");
        assert_eq!(config.introspection, None, "unset is told apart from on");
    }

    #[test]
    fn rejects_a_bad_address() {
        let err = Config::try_parse_from(["workgraph", "--addr", "nowhere"])
            .expect_err("an address without a port is refused");
        assert!(err.to_string().contains("--addr"), "{err}");
    }
}
