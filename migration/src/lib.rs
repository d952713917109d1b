//! The ordered list of workgraph's schema migrations, run by the server at start-up.

pub use sea_orm_migration::prelude::*;

mod m20260101_000001_seed_schema;
mod m20260201_000001_sessions;
mod m20261126_000001_chat;
pub mod m20261207_000001_object_ids;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_seed_schema::Migration),
            Box::new(m20260201_000001_sessions::Migration),
            Box::new(m20261126_000001_chat::Migration),
            Box::new(m20261207_000001_object_ids::Migration),
        ]
    }
}
