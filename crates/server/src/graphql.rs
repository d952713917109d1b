//! GraphQL over HTTP on `/graphql`, past each method's own checks: the in-flight cap and
//! the timeout, reading a `POST` body, refusing a mutation sent as `GET`, running the
//! request, and handing the response to [`crate::respond`], which writes it as the
//! negotiated media type with its status code. Refusals made before anything runs are
//! GraphQL error bodies with the codes in [`crate::app::refusal`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, ErrorExtensions, Pos, Value};
use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use graph::ClientAddr;
use graph::account::session;
use tracing::Span;

use crate::app::{AppState, HttpLimits, OwnStatements, RequestId, refusal};
use crate::media_type::MediaType;
use crate::metrics::{self, Timed, Transport};
use crate::respond::{database_unavailable, refuse, respond, stamp_request_id};

/// Reads and drops the body of a request refused for its headers, within the request
/// timeout (see [`read_body`] on why). Nothing in it is parsed or run, but reading it is
/// work like any request's: it takes an in-flight permit, and with none free the answer
/// is the `503` any request would get (`Err`), the body left unread.
pub(crate) async fn discard_body(
    request: Request,
    limits: &HttpLimits,
    media_type: MediaType,
) -> Result<(), Response> {
    let Ok(_permit) = Arc::clone(&limits.in_flight).try_acquire_owned() else {
        return Err(overloaded(media_type));
    };
    let body = read_body(request.into_body(), 0);
    let _ = tokio::time::timeout(limits.timeout, body).await;
    Ok(())
}

/// The answer to a request past the in-flight cap.
fn overloaded(media_type: MediaType) -> Response {
    refuse(
        media_type,
        StatusCode::SERVICE_UNAVAILABLE,
        refusal::OVERLOADED,
        "too many requests in flight, try again shortly",
    )
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

/// The `Authorization` header as text (not valid text reads as empty: an invalid session).
pub(crate) fn authorization(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default().to_owned())
}

/// A GraphQL request from `GET` parameters: `variables` and `extensions` are JSON text,
/// and an empty parameter counts as absent (a URL can't say `null`). The same checks as a
/// `POST` body's apply (`variables` an object, …).
pub(crate) fn request_from_params(
    params: &HashMap<String, String>,
) -> Result<async_graphql::Request, String> {
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
    let mut request: async_graphql::Request =
        serde_json::from_value(serde_json::Value::Object(request))
            .map_err(|err| format!("not a GraphQL request: {err}"))?;
    if let Some(id) = params.get("documentId").filter(|id| !id.is_empty()) {
        adopt_document_id(&mut request, id)?;
    }
    Ok(request)
}

/// The key GraphQL Code Generator's client preset sends a persisted document's hash under,
/// beside `query` (`{"documentId": "<sha256>", "variables": …}`).
const DOCUMENT_ID: &str = "documentId";

/// The `documentId` of each operation of a body, when the body has any.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum DocumentIds {
    Single(DocumentId),
    Batch(Vec<DocumentId>),
}

#[derive(serde::Deserialize)]
struct DocumentId {
    #[serde(rename = "documentId", default)]
    document_id: Option<String>,
}

/// Reads the `documentId`s of `body` into `batch`. Only a body that mentions the key is
/// read twice, so other clients pay nothing for it.
fn adopt_document_ids(body: &[u8], batch: &mut BatchRequest) -> Result<(), String> {
    if !body
        .windows(DOCUMENT_ID.len())
        .any(|window| window == DOCUMENT_ID.as_bytes())
    {
        return Ok(());
    }
    let ids = serde_json::from_slice::<DocumentIds>(body)
        .map_err(|_| "`documentId` must be a string: the document's SHA-256".to_owned())?;
    let ids = match ids {
        DocumentIds::Single(id) => vec![id],
        DocumentIds::Batch(ids) => ids,
    };
    for (request, id) in batch.iter_mut().zip(ids) {
        if let Some(id) = id.document_id {
            adopt_document_id(request, &id)?;
        }
    }
    Ok(())
}

/// Reads a `documentId` (a hex SHA-256, optionally prefixed `sha256:` as in the
/// GraphQL-over-HTTP draft) as the hash of a persisted query, so it is looked up exactly as
/// `extensions.persistedQuery.sha256Hash` is: in the trusted documents when the server has
/// them, else among the automatic persisted queries.
fn adopt_document_id(request: &mut async_graphql::Request, id: &str) -> Result<(), String> {
    let hash = id
        .strip_prefix("sha256:")
        .unwrap_or(id)
        .to_ascii_lowercase();
    if let Some(named) = graph::persisted::requested_hash(request).map_err(|err| err.message)? {
        if named != hash {
            return Err(
                "`documentId` and `extensions.persistedQuery` name different documents".to_owned(),
            );
        }
        return Ok(());
    }
    let extension = serde_json::json!({ "version": 1, "sha256Hash": hash });
    let extension = Value::from_json(extension).map_err(|err| err.to_string())?;
    request
        .extensions
        .insert("persistedQuery".to_owned(), extension);
    Ok(())
}

/// Whether the request says its body is JSON: `application/json` or
/// `application/graphql-response+json`, with or without parameters. Anything else (above all
/// the types a cross-site form may send without a preflight) is refused unparsed.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
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
pub(crate) enum Incoming {
    Body(Request),
    Query(async_graphql::Request),
}

/// One `/graphql` request past its method's own checks, `GET` and `POST` alike.
pub(crate) struct Call {
    pub(crate) state: AppState,
    pub(crate) request_id: RequestId,
    pub(crate) peer: SocketAddr,
    pub(crate) authorization: Option<String>,
    pub(crate) media_type: MediaType,
    /// Whether the planned read path may answer ([`plans`]).
    pub(crate) plan: bool,
}

/// The header a debug build reads to run a request on the resolvers alone
/// (`x-workgraph-executor: resolvers`): the differential tests compare both paths.
const EXECUTOR_HEADER: &str = "x-workgraph-executor";

/// Whether the planned read path ([`graph::plan`]) may answer a request: always, but that
/// debug builds let a request ask for the resolvers with [`EXECUTOR_HEADER`].
pub(crate) fn plans(headers: &HeaderMap) -> bool {
    !(cfg!(debug_assertions)
        && headers
            .get(EXECUTOR_HEADER)
            .is_some_and(|value| value.as_bytes() == b"resolvers"))
}

impl Call {
    /// Runs `incoming` under the in-flight cap and the timeout.
    pub(crate) async fn guarded(self, incoming: Incoming) -> Response {
        let media_type = self.media_type;
        let Ok(_permit) = Arc::clone(&self.state.limits.in_flight).try_acquire_owned() else {
            return overloaded(media_type);
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
                // A persisted query's hash alone says nothing of what it runs: look at the
                // document it stands for.
                if let Err(error) = self.state.schema.resolve_persisted(&mut request) {
                    let response = async_graphql::Response::from_errors(vec![error]);
                    self.state.metrics.request(
                        Transport::Http,
                        metrics::operation_label(None),
                        metrics::outcome(&response.errors),
                    );
                    return respond(BatchResponse::Single(response), vec![None], self.media_type);
                }
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
        let started = Instant::now();
        let before = state.statements.get();
        let own = OwnStatements::default();
        let (mut response, planned, operations) = match own
            .count(session::authenticate_cached(
                &state.db,
                Some(state.chat_bus.sessions()),
                self.authorization.as_deref(),
            ))
            .await
        {
            Ok(authentication) => {
                let batch = batch.data(authentication).data(ClientAddr(self.peer.ip()));
                own.count(state.schema.answer_batch(batch, self.plan)).await
            }
            Err(err) if err.is_database_unavailable() => {
                // Logs the cause, in this request's span.
                let error = err.extend();
                return database_unavailable(self.media_type, &error.message, self.request_id);
            }
            Err(err) => {
                let error = err.extend().into_server_error(Pos::default());
                let failed = || async_graphql::Response::from_errors(vec![error.clone()]);
                match batch {
                    BatchRequest::Single(_) => {
                        (BatchResponse::Single(failed()), vec![None], vec![None])
                    }
                    BatchRequest::Batch(requests) => (
                        BatchResponse::Batch(requests.iter().map(|_| failed()).collect()),
                        requests.iter().map(|_| None).collect(),
                        requests.iter().map(|_| None).collect(),
                    ),
                }
            }
        };
        // A plan runs every statement in this task: its own count is exact under
        // concurrency. The resolvers' loaders run elsewhere: their count is the window of
        // the shared counter, exact when requests don't overlap.
        let statements = if planned.iter().all(Option::is_some) {
            own.get()
        } else {
            state.statements.get().saturating_sub(before)
        };
        tracing::debug!(sql_statements = statements, "executed");
        let responses = match &mut response {
            BatchResponse::Single(response) => std::slice::from_mut(response),
            BatchResponse::Batch(responses) => responses.as_mut_slice(),
        };
        let metrics = &state.metrics;
        metrics.statements(statements);
        for (response, operation) in responses.iter().zip(&operations) {
            metrics.request(
                Transport::Http,
                metrics::operation_label(operation.as_ref().map(|operation| operation.ty)),
                metrics::outcome(&response.errors),
            );
        }
        let timed = match operations.as_slice() {
            [operation] => Timed::Operation(
                operation
                    .as_ref()
                    .and_then(|operation| operation.name.as_deref()),
            ),
            _ => Timed::Batch,
        };
        metrics.duration(timed, started.elapsed());
        for (response, planned) in responses.iter_mut().zip(&planned) {
            stamp_request_id(&mut response.errors, self.request_id);
            // Debug builds report the count to the client, so tests can hold the N+1 line
            // (for a batch, each response carries the whole batch's count), and which path
            // answered, so the differential tests know a plan ran.
            if cfg!(debug_assertions) {
                let mut taken = std::mem::take(response);
                taken = taken.extension("sqlStatements", Value::from(statements));
                if planned.is_some() {
                    taken = taken.extension("executor", Value::from("plan"));
                }
                *response = taken;
            }
        }
        respond(response, planned, self.media_type)
    }

    /// Reads and parses a `POST` body, refusing one that is too large, not a GraphQL
    /// request or a batch over the limit.
    async fn read_batch(&self, request: Request) -> Result<BatchRequest, Response> {
        let limit = self.state.limits.max_body_bytes;
        let body = match read_body(request.into_body(), limit).await {
            BodyRead::Complete(body) => body,
            BodyRead::TooLarge => {
                return Err(refuse(
                    self.media_type,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    refusal::PAYLOAD_TOO_LARGE,
                    &format!("the body is larger than {limit} bytes"),
                ));
            }
            BodyRead::Failed(err) => {
                return Err(refuse(
                    self.media_type,
                    StatusCode::BAD_REQUEST,
                    refusal::BAD_REQUEST,
                    &format!("the body could not be read: {err}"),
                ));
            }
        };
        let mut batch = serde_json::from_slice::<BatchRequest>(&body).map_err(|err| {
            refuse(
                self.media_type,
                StatusCode::BAD_REQUEST,
                refusal::BAD_REQUEST,
                &format!("not a GraphQL request: {err}"),
            )
        })?;
        adopt_document_ids(&body, &mut batch).map_err(|message| {
            refuse(
                self.media_type,
                StatusCode::BAD_REQUEST,
                refusal::BAD_REQUEST,
                &message,
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
    graph::query_limits::selected_operation(request, max_chars)
        .is_some_and(|(_, operation)| operation.node.ty != OperationType::Query)
}

/// A request without a document, unless it names a persisted one by hash instead
/// (`extensions.persistedQuery`, automatic persisted queries).
fn lacks_document(request: &async_graphql::Request) -> bool {
    request.query.trim().is_empty() && !request.extensions.contains_key("persistedQuery")
}
