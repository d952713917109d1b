//! workgraph's GraphQL schema: object types, queries, mutations and subscriptions, the
//! permission policy and the error model.
//!
//! This crate knows nothing of HTTP. [`schema`] builds the schema without a database so the
//! SDL can be exported anywhere; the server adds the connection (and per request, the
//! viewer) as data.

pub mod account;
mod api;
pub mod chat;
pub mod client;
pub mod connection;
pub mod context;
pub mod deletion;
pub mod error;
pub mod loaders;
pub mod membership;
pub mod node;
pub mod persisted;
pub mod plan;
pub mod policy;
pub mod project;
pub mod query_limits;
pub mod report;
pub mod retry;
pub mod role;
pub mod sliding_window;
pub mod tally;
pub mod task;
pub mod time_limit;
pub mod time_log;
pub mod trusted;
pub mod user;
pub mod validate;
pub mod workspace;

use std::sync::Arc;

use async_graphql::{MergedObject, SDLExportOptions, Schema, SchemaBuilder};

pub use api::{Api, PlannedData};
pub use context::{Authentication, ClientAddr, ContextExt, Viewer};
pub use error::{Error, Result};

/// The root query, composed of one part per domain.
#[derive(MergedObject, Default)]
pub struct Query(
    user::UserQuery,
    workspace::WorkspaceQuery,
    project::ProjectQuery,
    task::TaskQuery,
    node::NodeQuery,
    report::ReportQuery,
    chat::ChatQuery,
);

/// The root mutation, composed of one part per domain.
#[derive(MergedObject, Default)]
pub struct Mutation(
    account::AccountMutation,
    workspace::WorkspaceMutation,
    membership::workspace::WorkspaceMemberMutation,
    client::ClientMutation,
    project::ProjectMutation,
    membership::project::ProjectMemberMutation,
    task::TaskMutation,
    time_log::TimeLogMutation,
    chat::ChatMutation,
);

/// The root subscription.
pub type Subscription = chat::ChatSubscription;

/// The schema type the server serves.
pub type WorkgraphSchema = Schema<Query, Mutation, Subscription>;

/// The description of the `DateTime` scalar, in place of async-graphql's own ("Implement
/// the `DateTime<Utc>` scalar"), which speaks to its Rust implementers, not to our clients.
const DATE_TIME_DESCRIPTION: &str = concat!(
    "An instant as an RFC 3339 string. Sent back in UTC, with an offset of `+00:00` and\n",
    "fractional seconds only when not whole (e.g. `2026-03-01T09:30:00+00:00`); accepted\n",
    "with any offset (`Z`, `+02:00`) and stored to the microsecond.",
);

/// The schema with every type and resolver, but no data: the caller adds the database
/// connection and the services (see [`Services`]) with `.data(…)` before `.finish()`.
pub fn schema() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .override_output_type_description::<chrono::DateTime<chrono::Utc>>(DATE_TIME_DESCRIPTION)
}

/// The shared state resolvers expect beside the database, built from configuration.
pub struct Services {
    pub passwords: account::password::Passwords,
    pub login_limiter: account::rate_limit::LoginLimiter,
    pub sessions: account::session::SessionSettings,
    pub chat: chat::Chat,
    /// What the API counts for the server's metrics.
    pub tally: tally::Tally,
}

/// How the served schema behaves beyond its types: the limits on documents, whether it
/// answers introspection, how many persisted queries it keeps, and whether it runs only
/// trusted documents.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The limits on documents; with `limits.introspection` off, introspection is refused
    /// and errors make no "did you mean" suggestions (for production, where
    /// `schema.graphql` is what code generators read).
    pub limits: query_limits::Limits,
    /// How many automatic persisted queries to keep ([`persisted`]); 0 turns them off.
    pub persisted_queries: usize,
    /// With a list, only its documents run ([`trusted`]); automatic persisted queries
    /// then register nothing.
    pub trusted: Option<Arc<trusted::TrustedDocuments>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            limits: query_limits::Limits::default(),
            persisted_queries: 1_000,
            trusted: None,
        }
    }
}

/// The schema with its database and services, under the default [`Settings`]: what the
/// server serves.
pub fn build(db: sea_orm::DatabaseConnection, services: Services) -> Api {
    build_with(db, services, Settings::default())
}

/// [`build`] with other [`Settings`].
pub fn build_with(db: sea_orm::DatabaseConnection, services: Services, settings: Settings) -> Api {
    let loader = loaders::Loaders::data_loader(db.clone());
    let mut builder = services
        .register(schema().data(db).data(loader))
        // Outermost, so a planned operation is timed too.
        .extension(time_limit::TimeLimit)
        .extension(plan::Planner)
        .limit_complexity(settings.limits.max_complexity)
        .limit_directives(settings.limits.max_directives_per_field);
    if !settings.limits.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    Api {
        schema: builder.finish(),
        limits: settings.limits,
        persisted: (settings.persisted_queries > 0)
            .then(|| Arc::new(persisted::PersistedQueries::new(settings.persisted_queries))),
        trusted: settings.trusted,
    }
}

impl Services {
    /// Adds every service to `builder`.
    pub fn register(
        self,
        builder: SchemaBuilder<Query, Mutation, Subscription>,
    ) -> SchemaBuilder<Query, Mutation, Subscription> {
        builder
            .data(self.passwords)
            .data(self.login_limiter)
            .data(self.sessions)
            .data(self.chat)
            .data(self.tally)
    }
}

/// The SDL of the schema, with fields, arguments and enum values sorted so a change to the
/// schema shows as a small diff of `schema.graphql`.
pub fn sdl() -> String {
    schema().finish().sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items()
            .include_specified_by(),
    )
}
