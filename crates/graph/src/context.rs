//! What a resolver may ask of its request: the database handle, who is asking, and from
//! where.
//!
//! The server puts these into the schema's or the request's data; resolvers reach them
//! through [`ContextExt`] so a missing piece is an `INTERNAL` error, never a panic.

use std::net::IpAddr;

use async_graphql::Context;
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The signed-in user a request acts for, and the session it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

/// Who is asking, as far as the request's credentials tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication {
    /// No credentials were sent.
    Anonymous,
    /// Credentials were sent but are malformed, unknown, expired or revoked.
    Invalid,
    /// A valid session.
    Signed(Viewer),
}

/// The address the request came from, for per-client rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Starts a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`): a transaction that reads first and writes later would otherwise fail
/// with "database is locked" when another writer got in between, instead of waiting its turn
/// and reading what that writer committed. PostgreSQL ignores the setting.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    Ok(db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?)
}

/// A piece of request data the server failed to provide: a wiring bug, not a user error.
#[derive(Debug, thiserror::Error)]
#[error("request data missing: {0}")]
struct MissingData(&'static str);

/// Typed access to the request's data.
pub trait ContextExt {
    /// The database every resolver reads and writes through.
    fn db(&self) -> Result<&DatabaseConnection>;

    /// Shared state the server registered (settings, limiters, hashers).
    fn service<T: Send + Sync + 'static>(&self) -> Result<&T>;

    /// The viewer, or `None` for an anonymous request. Credentials that don't hold are
    /// `UNAUTHENTICATED` rather than anonymous, so a client knows to sign in again.
    fn viewer(&self) -> Result<Option<&Viewer>>;

    /// The viewer; `UNAUTHENTICATED` when there is none.
    fn require_viewer(&self) -> Result<&Viewer> {
        self.viewer()?.ok_or(Error::Unauthenticated)
    }

    /// Where the request came from, when the transport knows.
    fn client_addr(&self) -> Option<IpAddr>;
}

impl ContextExt for Context<'_> {
    fn db(&self) -> Result<&DatabaseConnection> {
        self.service::<DatabaseConnection>()
    }

    fn service<T: Send + Sync + 'static>(&self) -> Result<&T> {
        self.data_opt::<T>()
            .ok_or_else(|| Error::internal(MissingData(std::any::type_name::<T>())))
    }

    fn viewer(&self) -> Result<Option<&Viewer>> {
        match self.data_opt::<Authentication>() {
            None | Some(Authentication::Anonymous) => Ok(None),
            Some(Authentication::Invalid) => Err(Error::Unauthenticated),
            Some(Authentication::Signed(viewer)) => Ok(Some(viewer)),
        }
    }

    fn client_addr(&self) -> Option<IpAddr> {
        self.data_opt::<ClientAddr>().map(|addr| addr.0)
    }
}
