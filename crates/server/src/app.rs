//! The HTTP surface: routes, per-request spans and request ids.
//!
//! `POST /graphql` runs GraphQL over HTTP, `GET /graphql` serves GraphiQL,
//! `GET /graphql/ws` upgrades to a GraphQL WebSocket (graphql-transport-ws and the legacy
//! graphql-ws), `/healthz` says the process is up and `/readyz` that the database answers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql::{Data, ErrorExtensions, Pos, ServerError, Value};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
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
use tower_http::LatencyUnit;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};
use uuid::Uuid;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: Api,
    pub db: DatabaseConnection,
    pub statements: StatementCounter,
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
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let request = request.into_inner();
    if let Some(operation) = &request.operation_name {
        Span::current().record("operation", operation.as_str());
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default());
    let before = state.statements.get();
    let mut response = match session::authenticate(&state.db, authorization).await {
        Ok(authentication) => {
            let request = request.data(authentication).data(ClientAddr(peer.ip()));
            async_graphql::Executor::execute(&state.schema, request).await
        }
        Err(err) => async_graphql::Response::from_errors(vec![
            err.extend().into_server_error(Pos::default()),
        ]),
    };
    stamp_request_id(&mut response.errors, request_id);
    let statements = state.statements.get().saturating_sub(before);
    tracing::debug!(sql_statements = statements, "executed");
    // Debug builds report the count to the client, so tests can hold the N+1 line.
    if cfg!(debug_assertions) {
        response = response.extension("sqlStatements", Value::from(statements));
    }
    response.into()
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
