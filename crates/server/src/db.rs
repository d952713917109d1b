//! Opening the database: connection options per backend and the migrations.

use std::time::Duration;

use std::str::FromStr;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::{Config, SqliteSync, redact_url};

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    // The causes are kept as text: the drivers' errors repeat their own sources in their
    // messages, and an operator wants the cause once, on one line.
    /// The database answered and said no (credentials, an unknown database or role, a
    /// file SQLite can't open), or the URL is unusable: trying again would not help.
    #[error(
        "the database {url} refused the connection: {cause} (check the user, password and database name in DATABASE_URL)"
    )]
    Refused { url: String, cause: String },
    /// The database did not answer (down, unreachable, not accepting yet): it may later.
    #[error("cannot connect to database {url}: {cause}")]
    Connect { url: String, cause: String },
    #[error("database migration failed: {0}")]
    Migrate(String),
}

impl DbError {
    /// Whether the same attempt may succeed later: the database did not answer.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Connect { .. })
    }
}

/// How long a statement waits for a pool connection unless configured
/// (`WORKGRAPH_DB_ACQUIRE_TIMEOUT_SECS`).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The pool's size, how long a statement waits for one of its connections, and SQLite's
/// `synchronous` setting.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Most connections open at once.
    pub max_connections: u32,
    /// Longest wait for a connection, opening a new one included. With the database down
    /// this is how long a request takes to fail with `DATABASE_UNAVAILABLE`.
    pub acquire_timeout: Duration,
    /// On SQLite, whether every commit waits for the disk (`Full`) or only checkpoints do.
    pub sqlite_synchronous: SqliteSynchronous,
}

impl PoolSettings {
    /// The settings `config` asks for.
    pub fn from_config(config: &Config) -> Self {
        Self {
            max_connections: config
                .db_max_connections
                .unwrap_or_else(|| default_pool_size(&config.database_url)),
            acquire_timeout: Duration::from_secs(config.db_acquire_timeout_secs),
            sqlite_synchronous: match config.sqlite_synchronous {
                SqliteSync::Full => SqliteSynchronous::Full,
                SqliteSync::Normal => SqliteSynchronous::Normal,
            },
        }
    }
}

/// The pool's size unless configured: 10 on PostgreSQL; 4 on SQLite, where each connection
/// keeps its own page cache of the same file (more of them cost memory and, warmed one by
/// one, CPU) and the reads run on the server's own cores anyway, while one writer at a time
/// still leaves readers their connections.
fn default_pool_size(url: &str) -> u32 {
    if is_postgres(url) { 10 } else { 4 }
}

/// Whether `url` names a PostgreSQL database (SQLite's otherwise).
pub(crate) fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres:") || url.starts_with("postgresql:")
}

/// Connects to the configured database with the configured [`PoolSettings`].
pub async fn open(config: &Config) -> Result<DatabaseConnection, DbError> {
    connect_with(&config.database_url, PoolSettings::from_config(config)).await
}

/// [`connect_with`] at most `max_connections`, waiting [`DEFAULT_ACQUIRE_TIMEOUT`] at most,
/// with `synchronous=FULL` on SQLite.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbError> {
    connect_with(
        url,
        PoolSettings {
            max_connections,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            sqlite_synchronous: SqliteSynchronous::Full,
        },
    )
    .await
}

/// Connects to `url`. On SQLite: write-ahead log with `settings.sqlite_synchronous` (`FULL`,
/// the default, makes an answered write survive a power cut), foreign keys on, and a busy timeout so concurrent writers wait
/// instead of failing.
///
/// A lost database is survived without a restart: each connection is pinged before it is
/// handed out (SeaORM's default `test_before_acquire`), a dead one is dropped and a new one
/// opened, and no wait for a connection outlasts `settings.acquire_timeout`, so requests
/// fail fast while the database is away and work again as soon as it answers.
pub async fn connect_with(
    url: &str,
    settings: PoolSettings,
) -> Result<DatabaseConnection, DbError> {
    let connect_error = |cause: String| DbError::Connect {
        url: redact_url(url),
        cause,
    };
    probe(url).await.map_err(|failure| match failure {
        Probe::Refused(cause) => DbError::Refused {
            url: redact_url(url),
            cause,
        },
        Probe::NoAnswer(cause) => connect_error(cause),
    })?;
    let mut options = ConnectOptions::new(url);
    // Set on both backends: left alone, SeaORM gives SQLite a single connection, and every
    // read then queues behind a write's fsync.
    // SeaORM hands both timeouts to the pool's acquire timeout, which also bounds opening a
    // connection (sqlx retries a refused connect until then).
    options
        .max_connections(settings.max_connections)
        .connect_timeout(settings.acquire_timeout)
        .acquire_timeout(settings.acquire_timeout)
        .test_before_acquire(true)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(settings.sqlite_synchronous)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .row_buffer_size(SQLITE_ROW_BUFFER)
        });
    Database::connect(options)
        .await
        .map_err(|err| connect_error(err.to_string()))
}

/// How many rows a SQLite connection's worker thread hands over at a time. sqlx's default
/// (50) makes a page of a few thousand rows (a nested list's level) cost a thread switch
/// per 50 rows; the rows are small, so a larger buffer costs little memory.
const SQLITE_ROW_BUFFER: usize = 1024;

/// Why [`probe`] failed.
enum Probe {
    /// The database (or the URL) says no.
    Refused(String),
    /// No answer that says why: it may come later.
    NoAnswer(String),
}

impl From<sea_orm::sqlx::Error> for Probe {
    fn from(err: sea_orm::sqlx::Error) -> Self {
        use sea_orm::sqlx::Error;
        let refused = match &err {
            // What may pass: PostgreSQL's connection exceptions (class 08, which proxies
            // such as PgBouncer also send), its shutting down or starting up (57P01–57P03)
            // and a full house (53300); SQLite's busy or locked file (5, 6: another process
            // migrating it). Anything else the database answers at connect time (a bad
            // password, an unknown role or database, a file it can't open) stays so.
            Error::Database(db) => !db.code().is_some_and(|code| {
                code.starts_with("08")
                    || matches!(
                        code.as_ref(),
                        "57P01" | "57P02" | "57P03" | "53300" | "5" | "6"
                    )
            }),
            Error::Configuration(_) | Error::Tls(_) => true,
            _ => false,
        };
        if refused {
            Self::Refused(err.to_string())
        } else {
            Self::NoAnswer(err.to_string())
        }
    }
}

/// Opens and closes one plain connection. A pool only reports "timed out" when its
/// connections fail; a single connection says why (refused, unknown host, bad password,
/// unwritable file) and does so at once.
async fn probe(url: &str) -> Result<(), Probe> {
    if is_postgres(url) {
        let options = PgConnectOptions::from_str(url)?;
        options.connect().await?.close().await?;
        Ok(())
    } else if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?;
        options.connect().await?.close().await?;
        Ok(())
    } else {
        Err(Probe::Refused(
            "unsupported scheme: use sqlite:// or postgres://".into(),
        ))
    }
}

/// [`open`], trying again while the database does not answer, for up to `wait` (once
/// when zero); a refusal ends at once.
pub async fn open_waiting(config: &Config, wait: Duration) -> Result<DatabaseConnection, DbError> {
    let give_up = tokio::time::Instant::now() + wait;
    // One attempt against a host that drops packets could take minutes: each is cut at
    // what is left of the wait, or at the acquire timeout when less is left.
    let least = Duration::from_secs(config.db_acquire_timeout_secs);
    let mut pause = Duration::from_millis(250);
    loop {
        let limit = give_up
            .saturating_duration_since(tokio::time::Instant::now())
            .max(least);
        let attempt = match tokio::time::timeout(limit, open(config)).await {
            Ok(outcome) => outcome,
            Err(_elapsed) => Err(DbError::Connect {
                url: redact_url(&config.database_url),
                cause: format!("no answer within {} s", limit.as_secs()),
            }),
        };
        match attempt {
            Err(err) if err.is_retryable() && tokio::time::Instant::now() + pause < give_up => {
                tracing::warn!(error = %err, retry_in_ms = pause.as_millis(), "the database does not answer yet, retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            outcome => return outcome,
        }
    }
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbError> {
    Migrator::up(db, None)
        .await
        .map_err(|err: DbErr| DbError::Migrate(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_is_smaller_on_sqlite_unless_configured() {
        let mut config = Config::new(
            "sqlite://workgraph.db?mode=rwc",
            "127.0.0.1:0".parse().expect("an address"),
        );
        assert_eq!(PoolSettings::from_config(&config).max_connections, 4);
        config.database_url = "postgres://postgres@127.0.0.1/db".into();
        assert_eq!(PoolSettings::from_config(&config).max_connections, 10);
        config.db_max_connections = Some(7);
        assert_eq!(PoolSettings::from_config(&config).max_connections, 7);
    }
}
