//! The guards in front of `POST /graphql`: JSON only (CSRF), body size, batch size,
//! requests in flight and the request timeout — each refuses before anything executes.

use std::time::Duration;

use entity::user;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tests::{PASSWORD, TestApp};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const SIGN_UP: &str = "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { token } }";

fn sign_up_body(email: &str) -> Value {
    json!({
        "query": SIGN_UP,
        "variables": { "input": { "name": "Eve", "email": email, "password": PASSWORD } },
    })
}

async fn users(db: &DatabaseConnection) -> u64 {
    user::Entity::find().count(db).await.expect("count users")
}

/// POSTs `body` as raw bytes with `content_type`; the status and the parsed JSON body.
async fn post_raw(app: &TestApp, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let response = app
        .http()
        .post(app.url("/graphql"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("POST /graphql");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("a refusal is GraphQL JSON, got {text}: {err}"));
    (status, body)
}

/// POSTs `body` as `application/json`; the status and the parsed JSON body.
async fn post_json(app: &TestApp, body: &Value) -> (u16, Value) {
    post_raw(
        app,
        "application/json",
        serde_json::to_vec(body).expect("json"),
    )
    .await
}

fn first_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a code, got {body}"))
}

#[tokio::test]
async fn a_non_json_post_is_refused_with_415_and_runs_nothing() {
    let app = TestApp::spawn().await;
    let body = serde_json::to_vec(&sign_up_body("eve@example.com")).expect("json");
    for content_type in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let (status, response) = post_raw(&app, content_type, body.clone()).await;
        assert_eq!(status, 415, "{content_type}: {response}");
        assert_eq!(first_code(&response), "UNSUPPORTED_MEDIA_TYPE");
    }
    let missing = app
        .http()
        .post(app.url("/graphql"))
        .body(body.clone())
        .send()
        .await
        .expect("POST /graphql");
    assert_eq!(missing.status(), 415, "no Content-Type is not JSON either");
    assert_eq!(users(&app.db).await, 0, "no mutation ran");

    // JSON, with a charset or as the GraphQL-over-HTTP type, goes through.
    let (status, response) = post_raw(&app, "application/json; charset=utf-8", body).await;
    assert_eq!(status, 200, "{response}");
    assert!(
        response["data"]["signUp"]["token"].is_string(),
        "{response}"
    );
    let (status, response) = post_raw(
        &app,
        "application/graphql-response+json",
        br#"{"query":"{ __typename }"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(users(&app.db).await, 1);
    let response = app.graphql("{ __typename }", json!({})).await;
    assert_eq!(response.data()["__typename"], "Query");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413_and_runs_nothing() {
    let app = TestApp::spawn().await;
    let mut body = sign_up_body("eve@example.com");
    body["variables"]["pad"] = Value::String("x".repeat(2 * 1024 * 1024));
    let (status, response) = post_json(&app, &body).await;
    assert_eq!(status, 413, "{response}");
    assert_eq!(first_code(&response), "PAYLOAD_TOO_LARGE");
    assert_eq!(users(&app.db).await, 0, "no mutation ran");

    let response = app.graphql("{ __typename }", json!({})).await;
    assert_eq!(response.data()["__typename"], "Query");
}

#[tokio::test]
async fn a_batch_over_the_limit_is_refused_and_a_small_one_runs() {
    let app = TestApp::spawn().await;
    let batch = vec![json!({ "query": "{ __typename }" }); 1000];
    let (status, response) = post_json(&app, &Value::from(batch)).await;
    assert_eq!(status, 400, "{response}");
    assert_eq!(first_code(&response), "BATCH_TOO_LARGE");
    assert!(response.get("data").is_none(), "{response}");

    // Past the limit, even mutations that come first in the batch do not run.
    let mut batch = vec![sign_up_body("eve@example.com")];
    batch.extend(vec![json!({ "query": "{ __typename }" }); 10]);
    let (status, response) = post_json(&app, &Value::from(batch)).await;
    assert_eq!(status, 400, "{response}");
    assert_eq!(first_code(&response), "BATCH_TOO_LARGE");
    assert_eq!(users(&app.db).await, 0, "no mutation ran");

    let batch = json!([
        { "query": "{ __typename }" },
        { "query": "query Me { me { id } }" },
    ]);
    let (status, response) = post_json(&app, &batch).await;
    assert_eq!(status, 200, "{response}");
    let results = response.as_array().expect("a batch answers an array");
    assert_eq!(results.len(), 2, "{response}");
    assert_eq!(results[0]["data"]["__typename"], "Query");
    assert_eq!(results[1]["data"]["me"], Value::Null);
}

/// The status of `{ __typename }` over `POST /graphql`.
async fn typename_status(app: &TestApp) -> u16 {
    app.http()
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("POST /graphql")
        .status()
        .as_u16()
}

/// Opens a `POST /graphql` whose body is announced but only half sent: the server holds
/// it in flight, reading, until the rest comes.
async fn open_held_request(app: &TestApp) -> (TcpStream, &'static [u8]) {
    let body: &[u8] = br#"{"query":"{ __typename }"}"#;
    let (first, rest) = body.split_at(9);
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        app.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream
        .write_all(first)
        .await
        .expect("write part of the body");
    (stream, rest)
}

async fn read_status(stream: &mut TcpStream) -> String {
    let mut buffer = vec![0; 4096];
    let read = stream.read(&mut buffer).await.expect("read the response");
    let text = String::from_utf8_lossy(&buffer[..read]).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn past_the_concurrency_cap_a_request_gets_503_at_once() {
    let app = TestApp::spawn_with_config(|config| config.max_concurrent_requests = 1).await;
    let (mut held, rest) = open_held_request(&app).await;

    // Until the server has taken up the held request, others may still pass; once it has,
    // every other one is refused without waiting.
    let refused = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match typename_status(&app).await {
                503 => break,
                200 => tokio::task::yield_now().await,
                other => panic!("expected 200 or 503, got {other}"),
            }
        }
    })
    .await;
    assert!(
        refused.is_ok(),
        "a second request in flight was never refused"
    );

    held.write_all(rest).await.expect("write the rest");
    let status = read_status(&mut held).await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert_eq!(typename_status(&app).await, 200, "the slot is free again");
}

#[tokio::test]
async fn a_refused_upload_past_the_concurrency_cap_is_not_read() {
    let app = TestApp::spawn_with_config(|config| config.max_concurrent_requests = 1).await;
    let (mut held, rest) = open_held_request(&app).await;
    let taken = tokio::time::timeout(Duration::from_secs(30), async {
        while typename_status(&app).await != 503 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(taken.is_ok(), "the held request never took the slot");

    // A `text/plain` body would be read to its end before its 415; with no slot free,
    // reading it is refused like any other request's work.
    let (status, body) = post_raw(&app, "text/plain", vec![b'x'; 64 * 1024]).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(first_code(&body), "OVERLOADED", "{body}");

    held.write_all(rest).await.expect("write the rest");
    assert!(read_status(&mut held).await.starts_with("HTTP/1.1 200"));
    let (status, body) = post_raw(&app, "text/plain", b"{}".to_vec()).await;
    assert_eq!(
        status, 415,
        "with a slot free the refusal is the media type: {body}"
    );
}

#[tokio::test]
async fn a_request_past_the_timeout_gets_504() {
    let app = TestApp::spawn_with_config(|config| config.request_timeout_secs = 1).await;
    // The body never completes, so the request can only end by the timeout.
    let (mut held, _rest) = open_held_request(&app).await;
    let status = tokio::time::timeout(Duration::from_secs(30), read_status(&mut held))
        .await
        .expect("the server answers by its timeout");
    assert!(status.starts_with("HTTP/1.1 504"), "{status}");
    assert_eq!(typename_status(&app).await, 200);
}

#[tokio::test]
async fn with_batching_off_a_batch_is_refused() {
    let app = TestApp::spawn_with_config(|config| config.max_batch = 0).await;
    let response = app
        .http()
        .post(app.url("/graphql"))
        .json(&json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]))
        .send()
        .await
        .expect("POST /graphql");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(first_code(&body), "BATCH_TOO_LARGE");
    assert_eq!(typename_status(&app).await, 200);
}

/// Sends `body` with `content_type` `times` times; how many answers came back with
/// `status` (the others broke off or came back otherwise).
async fn answered(
    app: &TestApp,
    content_type: &str,
    body: &[u8],
    status: u16,
    times: usize,
) -> usize {
    let mut answered = 0;
    for _ in 0..times {
        let response = app
            .http()
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(body.to_vec())
            .send()
            .await;
        if let Ok(response) = response
            && response.status() == status
            && response.json::<Value>().await.is_ok()
        {
            answered += 1;
        }
    }
    answered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_body_is_read_so_the_client_gets_the_refusal() {
    let app = TestApp::spawn().await;
    // Bodies larger than the socket buffers, on a runtime where the server answers while
    // the client still writes: left unread, they made the server reset the connection and
    // the client lost the answer.
    for size in [13_000, 64 * 1024, 200 * 1024, 900 * 1024] {
        let body = vec![b'x'; size];
        assert_eq!(
            answered(&app, "text/plain", &body, 415, 50).await,
            50,
            "415s arrive ({size})"
        );
    }
    let body = vec![b'x'; 3 * 1024 * 1024];
    assert_eq!(
        answered(&app, "application/json", &body, 413, 10).await,
        10,
        "413s arrive"
    );
    assert_eq!(users(&app.db).await, 0);
}
