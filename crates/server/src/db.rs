//! Opening the database: connection options per backend and the migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::redact_url;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to database {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: DbErr,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[source] DbErr),
}

/// Connects to `url`. On SQLite: write-ahead log with `synchronous=FULL` (an answered write
/// survives a power cut), foreign keys on, and a busy timeout so concurrent writers wait
/// instead of failing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbError> {
    let mut options = ConnectOptions::new(url);
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    let db = Database::connect(options)
        .await
        .map_err(|source| DbError::Connect {
            url: redact_url(url),
            source,
        })?;
    // A lazy pool would connect on the first query; ask now so a wrong URL fails at
    // start-up with its own message.
    db.ping().await.map_err(|source| DbError::Connect {
        url: redact_url(url),
        source,
    })?;
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbError> {
    Migrator::up(db, None).await.map_err(DbError::Migrate)
}
