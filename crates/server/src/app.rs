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
//! (504). A refused body is still read to its end (within bounds) and dropped, so the
//! client gets the refusal rather than a reset connection.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql::{BatchRequest, BatchResponse, Data, ErrorExtensions, Pos, ServerError, Value};
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{ConnectInfo, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use graph::account::session;
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
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
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
        discard_body(request, &state.limits).await;
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

/// Reads and drops the body of a request refused for its headers, within the request
/// timeout (see [`read_body`] on why). Nothing in it is parsed or run.
async fn discard_body(request: Request, limits: &HttpLimits) {
    let body = read_body(request.into_body(), 0);
    let _ = tokio::time::timeout(limits.timeout, body).await;
}

/// How a body read by [`read_body`] ended.
enum BodyRead {
    Complete(Bytes),
    /// Longer than the limit; what came was dropped.
    TooLarge,
    /// The connection failed mid-body.
    Failed(String),
}

/// How far past its limit a body is read (and dropped) before its refusal goes out anyway,
/// in multiples of the limit (at least [`MIN_DRAIN_BYTES`]).
const DRAIN_FACTOR: usize = 8;
/// The least a refused body is read past its limit.
const MIN_DRAIN_BYTES: usize = 1024 * 1024;

/// Reads `body` whole if it is at most `limit` bytes. A longer one is still read to its
/// end, up to [`DRAIN_FACTOR`] times the limit, and dropped: a refusal sent while the
/// client is still writing would close a connection with unread data in it, which resets
/// the connection, and the client would get the reset instead of the answer. The caller's
/// timeout bounds how long this takes.
async fn read_body(mut body: Body, limit: usize) -> BodyRead {
    let drain = limit.saturating_mul(DRAIN_FACTOR).max(MIN_DRAIN_BYTES);
    let mut buffer = Vec::new();
    let mut received = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(err) => return BodyRead::Failed(err.to_string()),
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        received = received.saturating_add(data.len());
        if received <= limit {
            buffer.extend_from_slice(&data);
        } else {
            buffer = Vec::new();
            if received > drain {
                break;
            }
        }
    }
    if received > limit {
        BodyRead::TooLarge
    } else {
        BodyRead::Complete(Bytes::from(buffer))
    }
}

/// Whether the request says its body is JSON: `application/json` or
/// `application/graphql-response+json`, with or without parameters. Anything else (above all
/// the types a cross-site form may send without a preflight) is refused unparsed.
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
    let body = match read_body(request.into_body(), state.limits.max_body_bytes).await {
        BodyRead::Complete(body) => body,
        BodyRead::TooLarge => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                refusal::PAYLOAD_TOO_LARGE,
                &format!(
                    "the body is larger than {} bytes",
                    state.limits.max_body_bytes
                ),
            );
        }
        BodyRead::Failed(err) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                refusal::BAD_REQUEST,
                &format!("the body could not be read: {err}"),
            );
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

/// Adds `extensions.requestId` to each `INTERNAL` error: its cause is only in the server
/// log, and this id finds the line.
fn stamp_request_id(errors: &mut [ServerError], request_id: RequestId) {
    for error in errors {
        let Some(extensions) = error.extensions.as_mut() else {
            continue;
        };
        if extensions.get("code") == Some(&Value::from(code::INTERNAL)) {
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

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
