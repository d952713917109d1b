//! The HTTP surface: routes, per-request spans and request ids.
//!
//! `/graphql` runs GraphQL over HTTP: `POST` any operation, `GET` queries from the URL's
//! `query`, `operationName`, `variables` and `extensions` (a mutation is 405, only `POST`
//! may change data), and a browser's `GET` without a query gets GraphiQL. The response's
//! media type and status codes follow the `Accept` header ([`media_type`]).
//! `GET /graphql/ws` upgrades to a GraphQL WebSocket (graphql-transport-ws and the legacy
//! graphql-ws; see [`crate::ws`]), `/healthz` says the process is up and `/readyz` that the
//! database answers.
//!
//! `/graphql` is guarded before anything runs: `POST` takes only JSON bodies (so a
//! cross-site form or `text/plain` POST can't run a mutation; 415), a client that accepts
//! neither GraphQL media type gets 406, a body is at most `max_body_bytes` (413), a batch
//! at most `max_batch` operations (400 `BATCH_TOO_LARGE`), at most
//! `max_concurrent_requests` run at once (503 at once, no queue) and each has
//! `request_timeout` (504). A refused body is still read to its end (within bounds) and
//! dropped, so the client gets the refusal rather than a reset connection.
//!
//! With the database unreachable, a request fails within the pool's acquire timeout with
//! `DATABASE_UNAVAILABLE` (see [`graph::error::code`]). Its HTTP status follows where it
//! failed: when the session lookup that precedes GraphQL fails, nothing ran, and the answer
//! is a request-level 503 (like `OVERLOADED`) with `Retry-After`; once GraphQL runs, a field
//! that fails is a field error in a 200 response like any other, beside whatever data
//! did resolve. `/readyz` answers 503 meanwhile; `/healthz` stays 200.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_graphql::Data;
use async_graphql_axum::GraphQLProtocol;
use axum::extract::{ConnectInfo, Query, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use graph::account::session;
use graph::chat::bus::ChatBus;
use graph::{Api, Authentication, ClientAddr};
use sea_orm::DatabaseConnection;
use tokio::sync::Semaphore;
use tower_http::LatencyUnit;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use uuid::Uuid;

use crate::Config;
use crate::graphql::{Call, Incoming, authorization, discard_body, is_json, request_from_params};
use crate::media_type::{self, MediaType};
use crate::metrics::{self, Transport};
use crate::respond::{Refused, not_acceptable, refuse};
use crate::ws::{self, WsSettings};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: Api,
    pub db: DatabaseConnection,
    /// Checked by `/readyz`: an instance whose chat listener is down misses other
    /// instances' messages.
    pub chat_bus: ChatBus,
    pub statements: StatementCounter,
    pub limits: HttpLimits,
    pub ws: WsSettings,
    /// Served at `/metrics` (or on their own address, [`metrics_router`]).
    pub metrics: crate::metrics::Metrics,
}

/// The HTTP-level limits on `/graphql`, from the configuration.
#[derive(Clone)]
pub struct HttpLimits {
    /// Largest body in bytes (413 past it).
    pub max_body_bytes: usize,
    /// Most operations in a batch; 0 or 1 turns batching off.
    pub max_batch: usize,
    /// How long one request may take, reading its body included (504 past it).
    pub timeout: Duration,
    /// One permit per request in flight; none left answers 503.
    pub(crate) in_flight: Arc<Semaphore>,
}

impl HttpLimits {
    pub fn new(config: &Config) -> Self {
        Self {
            max_body_bytes: usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX),
            max_batch: config.max_batch,
            timeout: Duration::from_secs(config.request_timeout_secs),
            in_flight: Arc::new(Semaphore::new(
                usize::try_from(config.max_concurrent_requests).unwrap_or(Semaphore::MAX_PERMITS),
            )),
        }
    }
}

/// `extensions.code` of the refusals made before GraphQL runs: listed, with every other
/// code, in [`graph::error::code`].
pub mod refusal {
    pub use graph::error::code::{
        BAD_REQUEST, BATCH_TOO_LARGE, METHOD_NOT_ALLOWED, NOT_ACCEPTABLE, OVERLOADED,
        PAYLOAD_TOO_LARGE, TIMEOUT, TOO_MANY_SOCKETS, TOO_MANY_SUBSCRIPTIONS,
        UNSUPPORTED_MEDIA_TYPE,
    };
}

/// Counts the SQL statements the server's pool runs. A request reports the difference
/// across its execution: exact when requests don't overlap (tests, a quiet server), an
/// upper bound under concurrency, since other requests' statements fall into the window.
#[derive(Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
        // Outside a request's counting scope there is nothing more to count.
        let _ = OWN_STATEMENTS.try_with(|own| own.0.fetch_add(1, Ordering::Relaxed));
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

tokio::task_local! {
    static OWN_STATEMENTS: OwnStatements;
}

/// The statements one request runs in its own task: exact whatever runs beside it. A plan
/// runs all its statements there; the resolvers' DataLoader runs its batches in tasks of
/// their own (shared by concurrent requests), which this does not see.
#[derive(Clone, Default)]
pub struct OwnStatements(Arc<AtomicU64>);

impl OwnStatements {
    /// Runs `work`, counting the statements it runs in this task.
    pub async fn count<F: Future>(&self, work: F) -> F::Output {
        OWN_STATEMENTS.scope(self.clone(), work).await
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The id of one HTTP request: in its log span, in the `x-request-id` response header and
/// in every `INTERNAL` error it returns, so a user's report leads to the log line.
#[derive(Debug, Clone, Copy)]
pub struct RequestId(pub Uuid);

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The router of a metrics address of its own: `GET /metrics` alone.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(crate::metrics::serve))
        .with_state(state)
}

/// The router with every route and layer; `/metrics` when `metrics_here`.
pub fn router(state: AppState, metrics_here: bool) -> Router {
    let routes = Router::new();
    let routes = if metrics_here {
        routes.route("/metrics", get(crate::metrics::serve))
    } else {
        routes
    };
    let count_refusals = middleware::from_fn_with_state(state.clone(), count_refusals);
    routes
        .route(
            "/graphql",
            get(graphql_get).post(graphql_post).layer(count_refusals),
        )
        .route("/graphql/ws", get(graphql_ws))
        .route(crate::graphiql::ASSET_ROUTE, get(crate::graphiql::asset))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request
                        .extensions()
                        .get::<RequestId>()
                        .map(|id| id.0.to_string())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = request.uri().path(),
                        request_id,
                        operation = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        // Outermost, so the id exists before the span that records it is made.
        .layer(middleware::from_fn(assign_request_id))
}

/// Counts a request to `/graphql` refused before GraphQL ran (see [`crate::respond::refuse`])
/// in the metrics.
async fn count_refusals(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(Refused(code)) = response.extensions().get::<Refused>() {
        state
            .metrics
            .request(Transport::Http, metrics::operation_label(None), code);
    }
    response
}

/// Gives each request a fresh id. A client-sent `x-request-id` is not trusted: it would
/// let anyone write arbitrary text into our logs and collide ids on purpose.
async fn assign_request_id(mut request: Request, next: Next) -> Response {
    let id = RequestId(Uuid::now_v7());
    request.extensions_mut().insert(id);
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id.0.to_string()) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    response
}

/// `POST /graphql`: the body is a request or a batch of them.
async fn graphql_post(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let negotiated = media_type::negotiate(request.headers());
    let reply_as = negotiated.media_type.unwrap_or(MediaType::Json);
    if !is_json(request.headers()) {
        if let Err(overloaded) = discard_body(request, &state.limits, reply_as).await {
            return overloaded;
        }
        return refuse(
            reply_as,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            refusal::UNSUPPORTED_MEDIA_TYPE,
            "POST /graphql takes Content-Type: application/json",
        );
    }
    let Some(media_type) = negotiated.media_type else {
        if let Err(overloaded) = discard_body(request, &state.limits, reply_as).await {
            return overloaded;
        }
        return not_acceptable();
    };
    let authorization = authorization(request.headers());
    let plan = crate::graphql::plans(request.headers());
    let call = Call {
        state,
        request_id,
        peer,
        authorization,
        media_type,
        plan,
    };
    call.guarded(Incoming::Body(request)).await
}

/// `GET /graphql`: a query from the URL, or GraphiQL for a browser that sent none. Every
/// answer depends on `Accept`, and says so (`Vary`), so a cache between can't hand one
/// client's page or media type to another.
async fn graphql_get(
    state: State<AppState>,
    request_id: Extension<RequestId>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let mut response = answer_get(state, request_id, peer, headers, uri).await;
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept"));
    response
}

async fn answer_get(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let negotiated = media_type::negotiate(&headers);
    let reply_as = negotiated.media_type.unwrap_or(MediaType::Json);
    let params = match Query::<HashMap<String, String>>::try_from_uri(&uri) {
        Ok(Query(params)) => params,
        Err(rejection) => {
            return refuse(
                reply_as,
                StatusCode::BAD_REQUEST,
                refusal::BAD_REQUEST,
                &rejection.body_text(),
            );
        }
    };
    // A persisted query may come as its hash alone, in `extensions` or as `documentId`.
    if !params.contains_key("query")
        && !params.contains_key("extensions")
        && !params.contains_key("documentId")
    {
        if negotiated.prefers_html {
            return graphiql().await.into_response();
        }
        return refuse(
            reply_as,
            StatusCode::BAD_REQUEST,
            refusal::BAD_REQUEST,
            "GET /graphql takes the document in the `query` parameter",
        );
    }
    let Some(media_type) = negotiated.media_type else {
        return not_acceptable();
    };
    let request = match request_from_params(&params) {
        Ok(request) => request,
        Err(message) => {
            return refuse(
                media_type,
                StatusCode::BAD_REQUEST,
                refusal::BAD_REQUEST,
                &message,
            );
        }
    };
    let call = Call {
        state,
        request_id,
        peer,
        authorization: authorization(&headers),
        media_type,
        plan: crate::graphql::plans(&headers),
    };
    call.guarded(Incoming::Query(request)).await
}

async fn graphiql() -> Response {
    crate::graphiql::page()
}

async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let db = state.db.clone();
    ws::upgrade(
        upgrade,
        &headers,
        protocol,
        state.schema,
        state.ws,
        move |payload| authenticate_socket(db, peer, payload),
    )
}

/// A socket is for signed-in users only: `connection_init` must carry
/// `{"authorization": "Bearer <token>"}` with a valid session, or the connection is refused.
async fn authenticate_socket(
    db: DatabaseConnection,
    peer: SocketAddr,
    payload: serde_json::Value,
) -> async_graphql::Result<(Data, Uuid)> {
    let authorization = ["authorization", "Authorization"]
        .iter()
        .find_map(|key| payload.get(key).and_then(serde_json::Value::as_str));
    match session::authenticate(&db, authorization).await? {
        Authentication::Signed(viewer) => {
            let mut data = Data::default();
            data.insert(Authentication::Signed(viewer));
            data.insert(ClientAddr(peer.ip()));
            Ok((data, viewer.user_id))
        }
        Authentication::Anonymous | Authentication::Invalid => {
            Err(graph::Error::Unauthenticated.into())
        }
    }
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers a ping (within the pool's acquire timeout) and, on
/// PostgreSQL, the chat listener is connected; 503 otherwise, until both are back.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if let Err(err) = state.db.ping().await {
        tracing::warn!(error = %err, "readiness check failed");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable");
    }
    if !state.chat_bus.is_listening() {
        tracing::warn!("readiness check failed: the chat listener is reconnecting");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "chat listener reconnecting",
        );
    }
    (StatusCode::OK, "ready")
}
