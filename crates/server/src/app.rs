//! The HTTP surface: routes, per-request spans and request ids.
//!
//! `POST /graphql` runs GraphQL over HTTP, `GET /graphql` serves GraphiQL,
//! `GET /graphql/ws` upgrades to a GraphQL WebSocket (graphql-transport-ws and the legacy
//! graphql-ws), `/healthz` says the process is up and `/readyz` that the database answers.
//!
//! `POST /graphql` is guarded before anything runs: only JSON bodies (so a cross-site form
//! or `text/plain` POST can't run a mutation; 415), at most `max_body_bytes` (413), at most
//! `max_batch` operations in a batch (400 `BATCH_TOO_LARGE`), at most
//! `max_concurrent_requests` in flight (503 at once, no queue) and `request_timeout` each
//! (504).
//!
//! With the database unreachable, a request fails within the pool's acquire timeout with
//! `DATABASE_UNAVAILABLE` (see [`graph::error::code`]). Its HTTP status follows where it
//! failed: when the session lookup that precedes GraphQL fails, nothing ran, and the answer
//! is a request-level 503 with `Retry-After` (as `OVERLOADED`); once GraphQL runs, a field
//! that fails is a field error in a 200 response like any other, beside whatever data
//! did resolve. `/readyz` answers 503 meanwhile; `/healthz` stays 200.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql::{BatchRequest, BatchResponse, Data, ErrorExtensions, Pos, ServerError, Value};
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use graph::account::session;
use graph::chat::bus::ChatBus;
use graph::error::code;
use graph::{Api, Authentication, ClientAddr};
use sea_orm::DatabaseConnection;
use tokio::sync::Semaphore;
use tower_http::LatencyUnit;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};
use uuid::Uuid;

use crate::Config;

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
}

/// The HTTP-level limits on `POST /graphql`, from the configuration.
#[derive(Clone)]
pub struct HttpLimits {
    /// Largest body in bytes (413 past it).
    pub max_body_bytes: usize,
    /// Most operations in a batch; 0 or 1 turns batching off.
    pub max_batch: usize,
    /// How long one request may take, reading its body included (504 past it).
    pub timeout: Duration,
    /// One permit per request in flight; none left answers 503.
    in_flight: Arc<Semaphore>,
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

/// `extensions.code` of the refusals made before GraphQL runs.
pub mod refusal {
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const BATCH_TOO_LARGE: &str = "BATCH_TOO_LARGE";
    pub const OVERLOADED: &str = "OVERLOADED";
    pub const TIMEOUT: &str = "TIMEOUT";
}

/// Counts the SQL statements the server's pool runs. A request reports the difference
/// across its execution: exact when requests don't overlap (tests, a quiet server), an
/// upper bound under concurrency, since other requests' statements fall into the window.
#[derive(Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn increment(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The id of one HTTP request: in its log span, in the `x-request-id` response header and
/// in every `INTERNAL` error it returns, so a user's report leads to the log line.
#[derive(Debug, Clone, Copy)]
pub struct RequestId(pub Uuid);

/// Bytes a WebSocket reads at a time; longer frames still arrive whole.
const WS_READ_BUFFER: usize = 8 * 1024;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The router with every route and layer.
pub fn router(state: AppState) -> Router {
    let body_limit = DefaultBodyLimit::max(state.limits.max_body_bytes);
    Router::new()
        .route("/graphql", get(graphiql).post(graphql).layer(body_limit))
        .route("/graphql/ws", get(graphql_ws))
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

async fn graphql(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    if !is_json(request.headers()) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            refusal::UNSUPPORTED_MEDIA_TYPE,
            "POST /graphql takes Content-Type: application/json",
        );
    }
    let Ok(_permit) = Arc::clone(&state.limits.in_flight).try_acquire_owned() else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            refusal::OVERLOADED,
            "too many requests in flight, try again shortly",
        );
    };
    let timeout = state.limits.timeout;
    match tokio::time::timeout(timeout, execute(state, request_id, peer, request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_secs = timeout.as_secs(), "request timed out");
            refuse(
                StatusCode::GATEWAY_TIMEOUT,
                refusal::TIMEOUT,
                "the request took too long",
            )
        }
    }
}

/// Whether the request says its body is JSON: `application/json` or
/// `application/graphql-response+json`, with or without parameters. Anything else (above all
/// the types a cross-site form may send without a preflight) is refused unread.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence.eq_ignore_ascii_case("application/graphql-response+json")
}

/// Reads, parses, checks and runs one `POST /graphql` body (a request or a batch).
async fn execute(
    state: AppState,
    request_id: RequestId,
    peer: SocketAddr,
    request: Request,
) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default().to_owned());
    let body = match Bytes::from_request(request, &()).await {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                refusal::PAYLOAD_TOO_LARGE
            } else {
                refusal::BAD_REQUEST
            };
            return refuse(status, code, &rejection.body_text());
        }
    };
    let batch = match serde_json::from_slice::<BatchRequest>(&body) {
        Ok(batch) => batch,
        Err(err) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                refusal::BAD_REQUEST,
                &format!("not a GraphQL request: {err}"),
            );
        }
    };
    match &batch {
        BatchRequest::Batch(requests) if requests.len() > state.limits.max_batch => {
            return refuse(
                StatusCode::BAD_REQUEST,
                refusal::BATCH_TOO_LARGE,
                &format!(
                    "a batch may hold at most {} operations, this one has {}",
                    state.limits.max_batch,
                    requests.len()
                ),
            );
        }
        BatchRequest::Single(request) => {
            if let Some(operation) = &request.operation_name {
                Span::current().record("operation", operation.as_str());
            }
        }
        BatchRequest::Batch(_) => {}
    }
    let before = state.statements.get();
    let mut response = match session::authenticate(&state.db, authorization.as_deref()).await {
        Ok(authentication) => {
            let batch = batch.data(authentication).data(ClientAddr(peer.ip()));
            async_graphql::Executor::execute_batch(&state.schema, batch).await
        }
        Err(err) if err.is_database_unavailable() => {
            // Logs the cause, in this request's span.
            let error = err.extend();
            return database_unavailable(&error.message, request_id);
        }
        Err(err) => {
            let error = err.extend().into_server_error(Pos::default());
            let failed = || async_graphql::Response::from_errors(vec![error.clone()]);
            match batch {
                BatchRequest::Single(_) => BatchResponse::Single(failed()),
                BatchRequest::Batch(requests) => {
                    BatchResponse::Batch(requests.iter().map(|_| failed()).collect())
                }
            }
        }
    };
    let statements = state.statements.get().saturating_sub(before);
    tracing::debug!(sql_statements = statements, "executed");
    let responses = match &mut response {
        BatchResponse::Single(response) => std::slice::from_mut(response),
        BatchResponse::Batch(responses) => responses.as_mut_slice(),
    };
    for response in responses {
        stamp_request_id(&mut response.errors, request_id);
        // Debug builds report the count to the client, so tests can hold the N+1 line (for
        // a batch, each response carries the whole batch's count).
        if cfg!(debug_assertions) {
            let taken = std::mem::take(response);
            *response = taken.extension("sqlStatements", Value::from(statements));
        }
    }
    GraphQLResponse::from(response).into_response()
}

/// A refusal made before any GraphQL runs: `status`, with a GraphQL error body
/// (`{"errors":[{"message", "extensions":{"code"}}]}`) so clients read it as any other.
fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    // No `data` key: the request never reached execution (GraphQL over HTTP, request errors).
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }],
    });
    (status, axum::Json(body)).into_response()
}

/// Seconds a client is asked to wait (`Retry-After`) when the database is unavailable.
const DATABASE_RETRY_AFTER_SECS: u64 = 1;

/// The 503 for a request that failed before GraphQL ran because the database could not be
/// reached: a [`refuse`] body carrying the request id, and `Retry-After`.
fn database_unavailable(message: &str, request_id: RequestId) -> Response {
    let body = serde_json::json!({
        "errors": [{
            "message": message,
            "extensions": {
                "code": code::DATABASE_UNAVAILABLE,
                "requestId": request_id.0.to_string(),
            },
        }],
    });
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, DATABASE_RETRY_AFTER_SECS.to_string())],
        axum::Json(body),
    )
        .into_response()
}

/// Adds `extensions.requestId` to each `INTERNAL` and `DATABASE_UNAVAILABLE` error: their
/// cause is only in the server log, and this id finds the line.
fn stamp_request_id(errors: &mut [ServerError], request_id: RequestId) {
    let logged = [
        Value::from(code::INTERNAL),
        Value::from(code::DATABASE_UNAVAILABLE),
    ];
    for error in errors {
        let Some(extensions) = error.extensions.as_mut() else {
            continue;
        };
        if extensions
            .get("code")
            .is_some_and(|code| logged.contains(code))
        {
            extensions.set("requestId", request_id.0.to_string());
        }
    }
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("workgraph")
            .finish(),
    )
}

async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // GraphQL frames are small; tungstenite's 128 KiB default read buffer, allocated
        // up front, made an idle subscriber cost ~200 KiB (bench/README.md, chat).
        .read_buffer_size(WS_READ_BUFFER)
        .on_upgrade(move |socket| {
            let db = state.db.clone();
            GraphQLWebSocket::new(socket, state.schema, protocol)
                .on_connection_init(move |payload| authenticate_socket(db, peer, payload))
                .serve()
        })
}

/// A socket is for signed-in users only: `connection_init` must carry
/// `{"authorization": "Bearer <token>"}` with a valid session, or the connection is refused.
async fn authenticate_socket(
    db: DatabaseConnection,
    peer: SocketAddr,
    payload: serde_json::Value,
) -> async_graphql::Result<Data> {
    let authorization = ["authorization", "Authorization"]
        .iter()
        .find_map(|key| payload.get(key).and_then(serde_json::Value::as_str));
    match session::authenticate(&db, authorization).await? {
        Authentication::Signed(viewer) => {
            let mut data = Data::default();
            data.insert(Authentication::Signed(viewer));
            data.insert(ClientAddr(peer.ip()));
            Ok(data)
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
