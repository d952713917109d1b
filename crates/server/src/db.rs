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
    #[error("cannot connect to database {url}: {cause}")]
    Connect { url: String, cause: String },
    #[error("database migration failed: {0}")]
    Migrate(String),
}

/// Connects to the configured database with the configured pool size and, on SQLite,
/// `synchronous` setting.
pub async fn open(config: &Config) -> Result<DatabaseConnection, DbError> {
    let synchronous = match config.sqlite_synchronous {
        SqliteSync::Full => SqliteSynchronous::Full,
        SqliteSync::Normal => SqliteSynchronous::Normal,
    };
    connect_with(&config.database_url, config.db_max_connections, synchronous).await
}

/// Connects to `url`. On SQLite: write-ahead log with `synchronous=FULL` (an answered write
/// survives a power cut), foreign keys on, and a busy timeout so concurrent writers wait
/// instead of failing.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbError> {
    connect_with(url, max_connections, SqliteSynchronous::Full).await
}

/// [`connect`] with SQLite's `synchronous` setting chosen.
async fn connect_with(
    url: &str,
    max_connections: u32,
    synchronous: SqliteSynchronous,
) -> Result<DatabaseConnection, DbError> {
    let connect_error = |cause: String| DbError::Connect {
        url: redact_url(url),
        cause,
    };
    probe(url).await.map_err(connect_error)?;
    let mut options = ConnectOptions::new(url);
    // Set on both backends: left alone, SeaORM gives SQLite a single connection, and every
    // read then queues behind a write's fsync.
    options
        .max_connections(max_connections)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    Database::connect(options)
        .await
        .map_err(|err| connect_error(err.to_string()))
}

/// Opens and closes one plain connection. A pool only reports "timed out" when its
/// connections fail; a single connection says why (refused, unknown host, bad password,
/// unwritable file) and does so at once.
async fn probe(url: &str) -> Result<(), String> {
    let cause = |err: sea_orm::sqlx::Error| err.to_string();
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let options = PgConnectOptions::from_str(url).map_err(cause)?;
        options
            .connect()
            .await
            .map_err(cause)?
            .close()
            .await
            .map_err(cause)
    } else if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url).map_err(cause)?;
        options
            .connect()
            .await
            .map_err(cause)?
            .close()
            .await
            .map_err(cause)
    } else {
        Err("unsupported scheme: use sqlite:// or postgres://".into())
    }
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbError> {
    Migrator::up(db, None)
        .await
        .map_err(|err: DbErr| DbError::Migrate(err.to_string()))
}
