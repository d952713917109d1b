//! workgraph's GraphQL schema: object types, queries, mutations and subscriptions, the
//! permission policy and the error model.
//!
//! This crate knows nothing of HTTP. [`schema`] builds the schema without a database so the
//! SDL can be exported anywhere; the server adds the connection (and per request, the
//! viewer) as data.

pub mod context;
pub mod error;
pub mod user;

use async_graphql::{
    EmptyMutation, EmptySubscription, MergedObject, SDLExportOptions, Schema, SchemaBuilder,
};

pub use context::{ContextExt, Viewer};
pub use error::{Error, Result};

/// The root query, composed of one part per domain.
#[derive(MergedObject, Default)]
pub struct Query(user::UserQuery);

/// The root mutation.
pub type Mutation = EmptyMutation;

/// The root subscription.
pub type Subscription = EmptySubscription;

/// The schema type the server serves.
pub type WorkgraphSchema = Schema<Query, Mutation, Subscription>;

/// The schema with every type and resolver, but no data: the caller adds the database
/// connection with `.data(…)` before `.finish()`.
pub fn schema() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), EmptyMutation, EmptySubscription)
}

/// The SDL of the schema, with fields, arguments and enum values sorted so a change to the
/// schema shows as a small diff of `schema.graphql`.
pub fn sdl() -> String {
    schema().finish().sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items(),
    )
}
