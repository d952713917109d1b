//! Writing GraphQL answers over HTTP: a response or a batch as the negotiated media type,
//! with its status code ([`crate::media_type`]), a plan's body in place of `data`, and the
//! refusals made before anything runs, as GraphQL error bodies.

use async_graphql::{BatchResponse, ServerError, Value};
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use graph::error::code;

use crate::app::{RequestId, refusal};
use crate::media_type::MediaType;

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
/// differ. `planned` holds, item by item, the body a plan started (`{"data":…`, see
/// [`graph::plan::PlanSlot`]) in place of the response's own `data`.
pub(crate) fn respond(
    response: BatchResponse,
    planned: Vec<Option<Vec<u8>>>,
    media_type: MediaType,
) -> Response {
    let status = match (&response, media_type) {
        (BatchResponse::Single(single), MediaType::GraphQlResponse) => {
            graphql_response_status(single)
        }
        _ => StatusCode::OK,
    };
    let mut planned = planned.into_iter();
    let body = match &response {
        BatchResponse::Single(single) => write_item(single, planned.next().flatten(), media_type),
        BatchResponse::Batch(items) => {
            let mut body = vec![b'['];
            let mut written = Ok(());
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    body.push(b',');
                }
                match write_item(item, planned.next().flatten(), media_type) {
                    Ok(item) => body.extend_from_slice(&item),
                    Err(err) => {
                        written = Err(err);
                        break;
                    }
                }
            }
            body.push(b']');
            written.map(|()| body)
        }
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

/// One response's JSON: as serialized, but finishing the body a plan started (its `data`
/// in place of the response's) when there is one, and without `data` when it is a request
/// error sent as `application/graphql-response+json`.
fn write_item(
    response: &async_graphql::Response,
    planned: Option<Vec<u8>>,
    media_type: MediaType,
) -> serde_json::Result<Vec<u8>> {
    let strip_data = media_type == MediaType::GraphQlResponse && is_request_error(response);
    if planned.is_none() && !strip_data {
        return serde_json::to_vec(response);
    }
    let mut rest = match serde_json::to_value(response)? {
        serde_json::Value::Object(rest) => rest,
        _ => return serde_json::to_vec(response),
    };
    rest.remove("data");
    // The plan's body already holds `{"data":…`; else the object starts empty.
    let (mut body, mut first) = match planned {
        Some(started) => (started, false),
        None => (vec![b'{'], true),
    };
    for (key, value) in &rest {
        if !first {
            body.push(b',');
        }
        first = false;
        serde_json::to_writer(&mut body, key)?;
        body.push(b':');
        serde_json::to_writer(&mut body, value)?;
    }
    body.push(b'}');
    Ok(body)
}

/// 406: the client accepts neither GraphQL media type. The body is `application/json`
/// all the same, the spec's default.
pub(crate) fn not_acceptable() -> Response {
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
pub(crate) fn refuse(
    media_type: MediaType,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }],
    });
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media_type.content_type());
    response
        .extensions_mut()
        .insert(Refused(crate::metrics::code_label(code)));
    response
}

/// The code of a [`refuse`]d request, left on the response for the metrics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refused(pub(crate) &'static str);

/// Seconds a client is asked to wait (`Retry-After`) when the database is unavailable.
const DATABASE_RETRY_AFTER_SECS: u64 = 1;

/// The 503 for a request that failed before GraphQL ran because the database could not be
/// reached: a [`refuse`] body carrying the request id, and `Retry-After`.
pub(crate) fn database_unavailable(
    media_type: MediaType,
    message: &str,
    request_id: RequestId,
) -> Response {
    let body = serde_json::json!({
        "errors": [{
            "message": message,
            "extensions": {
                "code": code::DATABASE_UNAVAILABLE,
                "requestId": request_id.0.to_string(),
            },
        }],
    });
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, DATABASE_RETRY_AFTER_SECS.to_string())],
        axum::Json(body),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media_type.content_type());
    response
        .extensions_mut()
        .insert(Refused(code::DATABASE_UNAVAILABLE));
    response
}

/// Adds `extensions.requestId` to each `INTERNAL` and `DATABASE_UNAVAILABLE` error: their
/// cause is only in the server log, and this id finds the line.
pub(crate) fn stamp_request_id(errors: &mut [ServerError], request_id: RequestId) {
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
