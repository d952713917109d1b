//! What a resolver may ask of its request: the database handle and the viewer.
//!
//! The server puts both into the schema's or the request's data; resolvers reach them
//! through [`ContextExt`] so a missing piece is an `INTERNAL` error, never a panic.

use async_graphql::Context;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::error::{Error, Result};

/// The signed-in user a request acts for. Absent for anonymous requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: Uuid,
}

/// A piece of request data the server failed to provide: a wiring bug, not a user error.
#[derive(Debug, thiserror::Error)]
#[error("request data missing: {0}")]
struct MissingData(&'static str);

/// Typed access to the request's data.
pub trait ContextExt {
    /// The database every resolver reads and writes through.
    fn db(&self) -> Result<&DatabaseConnection>;
    /// The viewer, when the request carries a valid session.
    fn viewer(&self) -> Option<&Viewer>;
}

impl ContextExt for Context<'_> {
    fn db(&self) -> Result<&DatabaseConnection> {
        self.data_opt::<DatabaseConnection>()
            .ok_or_else(|| Error::internal(MissingData("database connection")))
    }

    fn viewer(&self) -> Option<&Viewer> {
        self.data_opt::<Viewer>()
    }
}
