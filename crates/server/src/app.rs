//! The HTTP surface: routes, per-request spans and request ids.
//!
//! `/graphql` runs GraphQL over HTTP: `POST` any operation, `GET` queries from the URL's
//! `query`, `operationName`, `variables` and `extensions` (a mutation is 405, only `POST`
//! may change data), and a browser's `GET` without a query gets GraphiQL. The response's
//! media type and status codes follow the `Accept` header ([`media_type`]).
//! `GET /graphql/ws` upgrades to a GraphQL WebSocket (graphql-transport-ws and the legacy
//! graphql-ws), `/healthz` says the process is up and `/readyz` that the database answers.
//!
//! `/graphql` is guarded before anything runs: `POST` takes only JSON bodies (so a
//! cross-site form or `text/plain` POST can't run a mutation; 415), a client that accepts
//! neither GraphQL media type gets 406, a body is at most `max_body_bytes` (413), a batch
//! at most `max_batch` operations (400 `BATCH_TOO_LARGE`), at most
//! `max_concurrent_requests` run at once (503 at once, no queue) and each has
//! `request_timeout` (504).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{BatchRequest, BatchResponse, Data, ErrorExtensions, Pos, ServerError, Value};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::body::{Body, Bytes};
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, Query, Request, State, WebSocketUpgrade,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
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
use crate::media_type::{self, MediaType};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: Api,
    pub db: DatabaseConnection,
    pub statements: StatementCounter,
    pub limits: HttpLimits,
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
    /// The client accepts neither `application/graphql-response+json` nor
    /// `application/json` (406).
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    /// A mutation or subscription sent as `GET` (405, `Allow: POST`): `GET` must not
    /// change data, so a link or an image tag can't make a user's browser run one.
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
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
        .route(
            "/graphql",
            get(graphql_get).post(graphql_post).layer(body_limit),
        )
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
        return refuse(
            reply_as,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            refusal::UNSUPPORTED_MEDIA_TYPE,
            "POST /graphql takes Content-Type: application/json",
        );
    }
    let Some(media_type) = negotiated.media_type else {
        return not_acceptable();
    };
    let authorization = authorization(request.headers());
    let call = Call {
        state,
        request_id,
        peer,
        authorization,
        media_type,
    };
    call.guarded(Incoming::Body(request)).await
}

/// `GET /graphql`: a query from the URL, or GraphiQL for a browser that sent none.
async fn graphql_get(
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
    if !params.contains_key("query") {
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
    };
    let mut response = call.guarded(Incoming::Query(request)).await;
    // A cache in between must not serve one client's media type to another.
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// The `Authorization` header as text (not valid text reads as empty: an invalid session).
fn authorization(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default().to_owned())
}

/// A GraphQL request from `GET` parameters: `variables` and `extensions` are JSON text,
/// and an empty parameter counts as absent (a URL can't say `null`). The same checks as a
/// `POST` body's apply (`variables` an object, …).
fn request_from_params(params: &HashMap<String, String>) -> Result<async_graphql::Request, String> {
    let mut request = serde_json::Map::new();
    for (name, value) in params {
        let value = match name.as_str() {
            _ if value.is_empty() && name != "query" => continue,
            "query" | "operationName" => serde_json::Value::String(value.clone()),
            "variables" | "extensions" => serde_json::from_str(value)
                .map_err(|err| format!("the `{name}` parameter is not JSON: {err}"))?,
            // Unknown parameters are ignored, as unknown keys of a POST body are.
            _ => continue,
        };
        request.insert(name.clone(), value);
    }
    serde_json::from_value(serde_json::Value::Object(request))
        .map_err(|err| format!("not a GraphQL request: {err}"))
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

/// What a `/graphql` request carries: a body still to be read (`POST`), or a request
/// already taken from the URL (`GET`).
enum Incoming {
    Body(Request),
    Query(async_graphql::Request),
}

/// One `/graphql` request past its method's own checks, `GET` and `POST` alike.
struct Call {
    state: AppState,
    request_id: RequestId,
    peer: SocketAddr,
    authorization: Option<String>,
    media_type: MediaType,
}

impl Call {
    /// Runs `incoming` under the in-flight cap and the timeout.
    async fn guarded(self, incoming: Incoming) -> Response {
        let media_type = self.media_type;
        let Ok(_permit) = Arc::clone(&self.state.limits.in_flight).try_acquire_owned() else {
            return refuse(
                media_type,
                StatusCode::SERVICE_UNAVAILABLE,
                refusal::OVERLOADED,
                "too many requests in flight, try again shortly",
            );
        };
        let timeout = self.state.limits.timeout;
        match tokio::time::timeout(timeout, self.execute(incoming)).await {
            Ok(response) => response,
            Err(_) => {
                tracing::warn!(timeout_secs = timeout.as_secs(), "request timed out");
                refuse(
                    media_type,
                    StatusCode::GATEWAY_TIMEOUT,
                    refusal::TIMEOUT,
                    "the request took too long",
                )
            }
        }
    }

    /// Reads, parses, checks and runs one request or batch.
    async fn execute(self, incoming: Incoming) -> Response {
        let batch = match incoming {
            Incoming::Body(request) => match self.read_batch(request).await {
                Ok(batch) => batch,
                Err(refused) => return refused,
            },
            Incoming::Query(mut request) => {
                let max_chars = self.state.schema.limits.max_document_chars;
                if changes_data(&mut request, max_chars) {
                    let mut refused = refuse(
                        self.media_type,
                        StatusCode::METHOD_NOT_ALLOWED,
                        refusal::METHOD_NOT_ALLOWED,
                        "GET runs queries only: send a mutation with POST, a subscription \
                         over the WebSocket at /graphql/ws",
                    );
                    refused
                        .headers_mut()
                        .insert(header::ALLOW, HeaderValue::from_static("POST"));
                    return refused;
                }
                BatchRequest::Single(request)
            }
        };
        if let Some(missing) = batch.iter().find(|request| lacks_document(request)) {
            let message = match &missing.operation_name {
                Some(name) => format!("the request for `{name}` has no `query`"),
                None => "a GraphQL request needs a `query`".to_owned(),
            };
            return refuse(
                self.media_type,
                StatusCode::BAD_REQUEST,
                refusal::BAD_REQUEST,
                &message,
            );
        }
        if let BatchRequest::Single(request) = &batch
            && let Some(operation) = &request.operation_name
        {
            Span::current().record("operation", operation.as_str());
        }
        let state = &self.state;
        let before = state.statements.get();
        let mut response =
            match session::authenticate(&state.db, self.authorization.as_deref()).await {
                Ok(authentication) => {
                    let batch = batch.data(authentication).data(ClientAddr(self.peer.ip()));
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
            stamp_request_id(&mut response.errors, self.request_id);
            // Debug builds report the count to the client, so tests can hold the N+1 line
            // (for a batch, each response carries the whole batch's count).
            if cfg!(debug_assertions) {
                let taken = std::mem::take(response);
                *response = taken.extension("sqlStatements", Value::from(statements));
            }
        }
        respond(response, self.media_type)
    }

    /// Reads and parses a `POST` body, refusing one that is too large, not a GraphQL
    /// request or a batch over the limit.
    async fn read_batch(&self, request: Request) -> Result<BatchRequest, Response> {
        let body = Bytes::from_request(request, &())
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    refusal::PAYLOAD_TOO_LARGE
                } else {
                    refusal::BAD_REQUEST
                };
                refuse(self.media_type, status, code, &rejection.body_text())
            })?;
        let batch = serde_json::from_slice::<BatchRequest>(&body).map_err(|err| {
            refuse(
                self.media_type,
                StatusCode::BAD_REQUEST,
                refusal::BAD_REQUEST,
                &format!("not a GraphQL request: {err}"),
            )
        })?;
        let max_batch = self.state.limits.max_batch;
        if let BatchRequest::Batch(requests) = &batch
            && requests.len() > max_batch
        {
            return Err(refuse(
                self.media_type,
                StatusCode::BAD_REQUEST,
                refusal::BATCH_TOO_LARGE,
                &format!(
                    "a batch may hold at most {max_batch} operations, this one has {}",
                    requests.len()
                ),
            ));
        }
        Ok(batch)
    }
}

/// Whether the operation `request` selects is a mutation or subscription. A document
/// that does not parse, is over the length limit or names no operation it has is left to
/// execution, which reports it without running anything.
fn changes_data(request: &mut async_graphql::Request, max_chars: usize) -> bool {
    // Parsing is bounded like execution's: a longer document is refused by the limits
    // unparsed. (Bytes bound characters from above, so this never refuses a fitting one.)
    if request.query.len() > max_chars && request.query.chars().count() > max_chars {
        return false;
    }
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name.as_str()),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        (DocumentOperations::Multiple(_), None) => None,
    };
    operation.is_some_and(|operation| operation.node.ty != OperationType::Query)
}

/// A request without a document, unless it names a persisted one by hash instead
/// (`extensions.persistedQuery`, automatic persisted queries).
fn lacks_document(request: &async_graphql::Request) -> bool {
    request.query.trim().is_empty() && !request.extensions.contains_key("persistedQuery")
}

/// Whether `response` is a request error: refused before execution (a document that does
/// not parse, validate or fit the limits, variables that don't coerce, a session lookup
/// that failed), so it has errors without a path and no data.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty())
}

/// The status of `response` sent as `application/graphql-response+json`: 200 once anything
/// executed (even if a `null` bubbled up to `data`), 400 for a request error, 500 when the
/// server failed before execution.
fn graphql_response_status(response: &async_graphql::Response) -> StatusCode {
    if !is_request_error(response) {
        return StatusCode::OK;
    }
    let internal = Value::from(code::INTERNAL);
    let failed = response.errors.iter().any(|error| {
        error
            .extensions
            .as_ref()
            .is_some_and(|extensions| extensions.get("code") == Some(&internal))
    });
    if failed {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// `response` as `media_type`. As `application/json` always 200 (the legacy contract: the
/// body tells), as `application/graphql-response+json` with [`graphql_response_status`] and
/// without the `data` entry of a request error. A batch is 200 either way: its items may
/// differ.
fn respond(response: BatchResponse, media_type: MediaType) -> Response {
    let status = match (&response, media_type) {
        (BatchResponse::Single(single), MediaType::GraphQlResponse) => {
            graphql_response_status(single)
        }
        _ => StatusCode::OK,
    };
    let items = match &response {
        BatchResponse::Single(single) => std::slice::from_ref(single),
        BatchResponse::Batch(batch) => batch.as_slice(),
    };
    let strip_data = media_type == MediaType::GraphQlResponse && items.iter().any(is_request_error);
    let body = if strip_data {
        serde_json::to_value(&response)
            .map(|mut body| {
                let objects = match &mut body {
                    serde_json::Value::Array(objects) => objects.iter_mut().collect(),
                    single => vec![single],
                };
                for (object, item) in objects.into_iter().zip(items) {
                    if let Some(object) = object.as_object_mut()
                        && is_request_error(item)
                    {
                        object.remove("data");
                    }
                }
                body
            })
            .and_then(|body| serde_json::to_vec(&body))
    } else {
        serde_json::to_vec(&response)
    };
    let body = match body {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = %err, "could not serialize a GraphQL response");
            return refuse(
                media_type,
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
                "the response could not be written",
            );
        }
    };
    let mut http = Response::new(Body::from(body));
    *http.status_mut() = status;
    let headers = http.headers_mut();
    headers.insert(header::CONTENT_TYPE, media_type.content_type());
    if response.is_ok()
        && let Some(cache_control) = response.cache_control().value()
        && let Ok(value) = HeaderValue::from_str(&cache_control)
    {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.extend(response.http_headers());
    http
}

/// 406: the client accepts neither GraphQL media type. The body is `application/json`
/// all the same, the spec's default.
fn not_acceptable() -> Response {
    refuse(
        MediaType::Json,
        StatusCode::NOT_ACCEPTABLE,
        refusal::NOT_ACCEPTABLE,
        "Accept must allow application/graphql-response+json or application/json",
    )
}

/// A refusal made before any GraphQL runs: `status`, with a GraphQL error body
/// (`{"errors":[{"message", "extensions":{"code"}}]}`, no `data`: nothing executed) as
/// `media_type`, so clients read it as any other.
fn refuse(media_type: MediaType, status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }],
    });
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media_type.content_type());
    response
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
