//! workgraph's GraphQL schema: object types, queries, mutations and subscriptions, the
//! permission policy and the error model.
//!
//! This crate knows nothing of HTTP. [`schema`] builds the schema without a database so the
//! SDL can be exported anywhere; the server adds the connection (and per request, the
//! viewer) as data.

pub mod account;
pub mod chat;
pub mod client;
pub mod connection;
pub mod context;
pub mod deletion;
pub mod error;
pub mod limits;
pub mod loaders;
pub mod membership;
pub mod node;
pub mod persisted;
pub mod plan;
pub mod policy;
pub mod project;
pub mod report;
pub mod retry;
pub mod role;
pub mod task;
pub mod time_limit;
pub mod time_log;
pub mod user;
pub mod validate;
pub mod workspace;

use std::sync::Arc;

use async_graphql::{MergedObject, SDLExportOptions, Schema, SchemaBuilder, ServerError};

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
}

/// How the served schema behaves beyond its types: the limits on documents, whether it
/// answers introspection, and how many persisted queries it keeps.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The limits on documents; with `limits.introspection` off, introspection is refused
    /// and errors make no "did you mean" suggestions (for production, where
    /// `schema.graphql` is what code generators read).
    pub limits: limits::Limits,
    /// How many automatic persisted queries to keep ([`persisted`]); 0 turns them off.
    pub persisted_queries: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            limits: limits::Limits::default(),
            persisted_queries: 1_000,
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
    }
}

/// The schema as the transports run it: every response leaves with a code on each error
/// ([`error::assign_codes`]) and its cost ([`limits`]), over HTTP and WebSocket alike; a
/// persisted query's document is filled in from its hash ([`persisted`]), and a document
/// over the [`limits::Limits`] is refused before it runs.
#[derive(Clone)]
pub struct Api {
    pub schema: WorkgraphSchema,
    pub limits: limits::Limits,
    persisted: Option<Arc<persisted::PersistedQueries>>,
}

impl Api {
    /// Fills in a persisted query's document from its hash ([`persisted`]), as
    /// [`async_graphql::Executor::execute`] does first; a transport that must look at the
    /// document before it runs (`GET` runs queries only) calls this first. Answers the hash
    /// to keep the document under once it passes the limits.
    pub fn resolve_persisted(
        &self,
        request: &mut async_graphql::Request,
    ) -> Result<Option<String>, ServerError> {
        match &self.persisted {
            Some(persisted) => persisted.resolve(request),
            None if request.query.is_empty() && persisted::requested_hash(request)?.is_some() => {
                Err(limits::refusal(
                    error::code::PERSISTED_QUERY_NOT_SUPPORTED,
                    "persisted queries are turned off on this server: send the document".to_owned(),
                ))
            }
            None => Ok(None),
        }
    }

    /// Everything done to a request before async-graphql sees it: the persisted query
    /// filled in, the limits checked, and a document sent with its hash kept if it parsed
    /// and fits the limits. Answers the document's cost.
    fn prepare(&self, request: &mut async_graphql::Request) -> Result<Option<usize>, ServerError> {
        let keep = self.resolve_persisted(request)?;
        let cost = self.limits.check(request)?;
        if let (Some(persisted), Some(hash), Some(_)) = (&self.persisted, keep, cost) {
            persisted.keep(hash, &request.query);
        }
        Ok(cost)
    }
}

/// The planned `data` of each operation of a batch, in order: `None` for one the
/// resolvers answered (its response carries its `data`).
pub type PlannedData = Vec<Option<Vec<u8>>>;

impl Api {
    /// Runs `batch` as [`async_graphql::Executor::execute_batch`] does, and with `plan`
    /// lets the planned read path ([`plan`]) answer the queries it covers: their `data`
    /// comes back as JSON beside a response that has none of its own, for the transport
    /// to write in its place.
    pub async fn answer_batch(
        &self,
        batch: async_graphql::BatchRequest,
        plan: bool,
    ) -> (async_graphql::BatchResponse, PlannedData) {
        let answer = |request: async_graphql::Request| async move {
            if !plan {
                let response = async_graphql::Executor::execute(self, request).await;
                return (response, None);
            }
            let slot = plan::PlanSlot::default();
            let response = async_graphql::Executor::execute(self, request.data(slot.clone())).await;
            (response, slot.take())
        };
        match batch {
            async_graphql::BatchRequest::Single(request) => {
                let (response, planned) = answer(request).await;
                (
                    async_graphql::BatchResponse::Single(response),
                    vec![planned],
                )
            }
            async_graphql::BatchRequest::Batch(requests) => {
                let mut responses = Vec::with_capacity(requests.len());
                let mut planned = Vec::with_capacity(requests.len());
                for request in requests {
                    let (response, data) = answer(request).await;
                    responses.push(response);
                    planned.push(data);
                }
                (async_graphql::BatchResponse::Batch(responses), planned)
            }
        }
    }
}

impl async_graphql::Executor for Api {
    async fn execute(&self, mut request: async_graphql::Request) -> async_graphql::Response {
        let cost = match self.prepare(&mut request) {
            Ok(cost) => cost,
            Err(refused) => return async_graphql::Response::from_errors(vec![refused]),
        };
        let mut response = self.schema.execute(request).await;
        error::assign_codes(&mut response.errors);
        match cost {
            Some(cost) => response.extension(
                "cost",
                limits::cost_report(cost, self.limits.max_complexity),
            ),
            None => response,
        }
    }

    /// Runs a batch's operations one after another, not concurrently as async-graphql
    /// does: each `logIn` of a batch then meets the failures its predecessors recorded, so
    /// a batch can't try more passwords than separate requests could, and one batch can't
    /// take more than its share of the cores.
    async fn execute_batch(
        &self,
        batch: async_graphql::BatchRequest,
    ) -> async_graphql::BatchResponse {
        match batch {
            async_graphql::BatchRequest::Single(request) => {
                async_graphql::BatchResponse::Single(self.execute(request).await)
            }
            async_graphql::BatchRequest::Batch(requests) => {
                let mut responses = Vec::with_capacity(requests.len());
                for request in requests {
                    responses.push(self.execute(request).await);
                }
                async_graphql::BatchResponse::Batch(responses)
            }
        }
    }

    fn execute_stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<std::sync::Arc<async_graphql::Data>>,
    ) -> async_graphql::futures_util::stream::BoxStream<'static, async_graphql::Response> {
        use async_graphql::futures_util::StreamExt;
        let cost = match self.prepare(&mut request) {
            Ok(cost) => cost,
            Err(refused) => {
                let response = async_graphql::Response::from_errors(vec![refused]);
                return async_graphql::futures_util::stream::once(async move { response }).boxed();
            }
        };
        let maximum = self.limits.max_complexity;
        self.schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(move |mut response| {
                error::assign_codes(&mut response.errors);
                match cost {
                    Some(cost) => response.extension("cost", limits::cost_report(cost, maximum)),
                    None => response,
                }
            })
            .boxed()
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
