//! GraphQL over HTTP as the spec words it: queries over `GET` (a mutation is 405 and runs
//! nothing), the response's media type from `Accept` (406 when neither GraphQL type is
//! acceptable) and the status codes each media type calls for.

use entity::user;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tests::{PASSWORD, TestApp};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

const SIGN_UP: &str = "mutation SignUp($input: SignUpInput!) { signUp(input: $input) { token } }";

/// A response as a test reads it: status, the headers it asserts on, the JSON body.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    allow: Option<String>,
    body: Value,
}

impl Answer {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|value| value.to_str().expect("ascii header").to_owned())
        };
        let content_type = header("content-type").unwrap_or_default();
        let allow = header("allow");
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("GraphQL JSON expected, got {text}: {err}"));
        Self {
            status,
            content_type,
            allow,
            body,
        }
    }

    fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error with a code, got {}", self.body))
    }

    fn is(&self, media_type: &str) -> bool {
        self.content_type.starts_with(media_type)
    }
}

/// `/graphql` with `params` URL-encoded as its query string.
fn url(app: &TestApp, params: &[(&str, &str)]) -> reqwest::Url {
    reqwest::Url::parse_with_params(&app.url("/graphql"), params).expect("a valid URL")
}

/// `GET /graphql` with `params` as the query string and `accept` when given.
async fn get(app: &TestApp, params: &[(&str, &str)], accept: Option<&str>) -> Answer {
    let mut request = app.http().get(url(app, params));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    Answer::from(request.send().await.expect("GET /graphql")).await
}

/// `POST /graphql` with the JSON `body` and `accept` when given.
async fn post(app: &TestApp, body: &Value, accept: Option<&str>) -> Answer {
    let mut request = app.http().post(app.url("/graphql")).json(body);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    Answer::from(request.send().await.expect("POST /graphql")).await
}

async fn users(app: &TestApp) -> u64 {
    user::Entity::find()
        .count(&app.db)
        .await
        .expect("count users")
}

#[tokio::test]
async fn a_query_runs_over_get_with_variables_and_operation_name() {
    let app = TestApp::spawn().await;
    let answer = get(
        &app,
        &[
            (
                "query",
                "query Other { me { id } } query Type($name: String!) { __type(name: $name) { name } }",
            ),
            ("operationName", "Type"),
            ("variables", r#"{"name":"Query"}"#),
        ],
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.is(GRAPHQL_RESPONSE), "{answer:?}");
    assert_eq!(answer.body["data"]["__type"]["name"], "Query", "{answer:?}");
}

#[tokio::test]
async fn get_runs_through_the_same_path_as_post() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;

    // The session header, the request id and the statement count.
    let response = app
        .http()
        .get(url(&app, &[("query", "{ me { email } }")]))
        .bearer_auth(&ann.token)
        .send()
        .await
        .expect("GET /graphql");
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii header")
        .to_owned();
    assert!(uuid::Uuid::parse_str(&request_id).is_ok(), "{request_id}");
    let answer = Answer::from(response).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["data"]["me"]["email"], "ann@example.io");
    assert!(
        answer.body["extensions"]["sqlStatements"].as_u64() > Some(0),
        "the session lookup is counted: {answer:?}"
    );

    // A session that does not exist is the same error as over POST.
    let response = app
        .http()
        .get(url(&app, &[("query", "{ me { email } }")]))
        .bearer_auth("not-a-session")
        .send()
        .await
        .expect("GET /graphql");
    let answer = Answer::from(response).await;
    assert_eq!(answer.code(), "UNAUTHENTICATED", "{answer:?}");
}

#[tokio::test]
async fn get_is_held_to_the_document_limits() {
    let app = TestApp::spawn_with_config(|config| config.max_query_chars = 40).await;
    let long = format!("{{ __typename {} }}", "__typename ".repeat(5));
    let answer = get(&app, &[("query", &long)], Some(GRAPHQL_RESPONSE)).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(answer.code(), "QUERY_TOO_LARGE", "{answer:?}");
    assert!(answer.body.get("data").is_none(), "{answer:?}");

    // A mutation over the limit is refused by the limit; nothing runs either way.
    let mutation = format!("mutation {{ {} }}", "__typename ".repeat(5));
    let answer = get(&app, &[("query", &mutation)], None).await;
    assert_eq!(answer.code(), "QUERY_TOO_LARGE", "{answer:?}");
}

#[tokio::test]
async fn a_mutation_over_get_is_405_and_runs_nothing() {
    let app = TestApp::spawn().await;
    let variables = json!({
        "input": { "name": "Eve", "email": "eve@example.com", "password": PASSWORD },
    })
    .to_string();
    let queries_and_mutation = format!("query Me {{ me {{ id }} }} {SIGN_UP}");
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "anonymous",
            &[("query", SIGN_UP), ("variables", &variables)],
        ),
        (
            "selected by name",
            &[
                ("query", &queries_and_mutation),
                ("operationName", "SignUp"),
                ("variables", &variables),
            ],
        ),
        ("subscription", &[("query", "subscription { __typename }")]),
    ];
    for (case, params) in cases {
        for accept in [None, Some(JSON), Some(GRAPHQL_RESPONSE)] {
            let answer = get(&app, params, accept).await;
            assert_eq!(answer.status, 405, "{case}, {accept:?}: {answer:?}");
            assert_eq!(answer.allow.as_deref(), Some("POST"), "{case}: {answer:?}");
            assert_eq!(answer.code(), "METHOD_NOT_ALLOWED", "{case}: {answer:?}");
            assert!(answer.body.get("data").is_none(), "{case}: {answer:?}");
        }
    }
    assert_eq!(users(&app).await, 0, "no sign-up ran");

    // The query of the same document runs over GET; the mutation runs over POST.
    let answer = get(
        &app,
        &[("query", &queries_and_mutation), ("operationName", "Me")],
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["data"]["me"], Value::Null, "{answer:?}");
    let variables: Value = serde_json::from_str(&variables).expect("json");
    let answer = post(
        &app,
        &json!({ "query": SIGN_UP, "variables": variables }),
        None,
    )
    .await;
    assert!(
        answer.body["data"]["signUp"]["token"].is_string(),
        "{answer:?}"
    );
    assert_eq!(users(&app).await, 1);
}

#[tokio::test]
async fn get_without_a_query_is_graphiql_for_a_browser_and_400_otherwise() {
    let app = TestApp::spawn().await;
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let response = app
        .http()
        .get(app.url("/graphql"))
        .header("accept", browser)
        .send()
        .await
        .expect("GET /graphql");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii header");
    assert!(content_type.starts_with("text/html"), "{content_type}");

    for accept in [None, Some("*/*"), Some(JSON), Some(GRAPHQL_RESPONSE)] {
        let answer = get(&app, &[], accept).await;
        assert_eq!(answer.status, 400, "{accept:?}: {answer:?}");
        assert_eq!(answer.code(), "BAD_REQUEST", "{accept:?}: {answer:?}");
    }
    let answer = get(&app, &[("query", "")], None).await;
    assert_eq!(answer.status, 400, "an empty query: {answer:?}");
    let answer = get(
        &app,
        &[("query", "{ __typename }"), ("variables", "{")],
        None,
    )
    .await;
    assert_eq!(
        answer.status, 400,
        "variables that are not JSON: {answer:?}"
    );
    assert_eq!(answer.code(), "BAD_REQUEST");
}

#[tokio::test]
async fn the_media_type_follows_accept() {
    let app = TestApp::spawn().await;
    let query = json!({ "query": "{ __typename }" });
    let cases: &[(&str, Option<&str>)] = &[
        ("*/*", Some(JSON)),
        ("application/*", Some(JSON)),
        (JSON, Some(JSON)),
        ("application/json; charset=utf-8", Some(JSON)),
        (GRAPHQL_RESPONSE, Some(GRAPHQL_RESPONSE)),
        (
            "application/graphql-response+json, application/json;q=0.9",
            Some(GRAPHQL_RESPONSE),
        ),
        (
            "application/graphql-response+json;q=0.5, application/json",
            Some(JSON),
        ),
        ("text/html", None),
        ("application/xml", None),
        ("application/json;q=0", None),
    ];
    for (accept, expected) in cases {
        for method in ["GET", "POST"] {
            let answer = match method {
                "GET" => get(&app, &[("query", "{ __typename }")], Some(accept)).await,
                _ => post(&app, &query, Some(accept)).await,
            };
            let row = format!("{method} with Accept: {accept}: {answer:?}");
            match expected {
                Some(media_type) => {
                    assert_eq!(answer.status, 200, "{row}");
                    assert!(answer.is(media_type), "{row}");
                    assert_eq!(answer.body["data"]["__typename"], "Query", "{row}");
                }
                None => {
                    assert_eq!(answer.status, 406, "{row}");
                    assert_eq!(answer.code(), "NOT_ACCEPTABLE", "{row}");
                    assert!(answer.is(JSON), "{row}");
                }
            }
        }
    }
}

#[tokio::test]
async fn no_accept_header_answers_application_json() {
    let app = TestApp::spawn().await;
    // reqwest always sends an Accept, so this request is written by hand.
    let body = r#"{"query":"{ __typename }"}"#;
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    let request = format!(
        "POST /graphql HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read response");
    let (head, payload) = response.split_once("\r\n\r\n").expect("a head and a body");
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("\r\ncontent-type: application/json"),
        "{head}"
    );
    assert!(payload.contains(r#""__typename":"Query""#), "{payload}");
}

#[tokio::test]
async fn status_codes_follow_the_media_type() {
    let app = TestApp::spawn().await;
    // (case, request body, status as graphql-response+json, whether `data` is present
    // then; as application/json the status is always 200).
    let cases: &[(&str, Value, u16, bool)] = &[
        ("success", json!({ "query": "{ __typename }" }), 200, true),
        ("parse failure", json!({ "query": "{" }), 400, false),
        (
            "validation failure",
            json!({ "query": "{ nothingHere }" }),
            400,
            false,
        ),
        (
            "variable coercion failure",
            json!({ "query": "query Q($id: ID!) { node(id: $id) { id } }", "variables": { "id": null } }),
            400,
            false,
        ),
        (
            "unknown operation name",
            json!({ "query": "query A { __typename }", "operationName": "B" }),
            400,
            false,
        ),
        (
            // Executed: the error bubbled up to `data`, which is present and null.
            "field error",
            json!({ "query": "{ conversations { totalCount } }" }),
            200,
            true,
        ),
    ];
    for (case, body, status, has_data) in cases {
        let answer = post(&app, body, Some(GRAPHQL_RESPONSE)).await;
        assert_eq!(
            answer.status, *status,
            "{case}, graphql-response: {answer:?}"
        );
        assert!(answer.is(GRAPHQL_RESPONSE), "{case}: {answer:?}");
        assert_eq!(
            answer.body.get("data").is_some(),
            *has_data,
            "{case}, graphql-response: {answer:?}"
        );
        if *status != 200 {
            assert_eq!(answer.code(), "GRAPHQL_VALIDATION_FAILED", "{case}");
        }

        let answer = post(&app, body, Some(JSON)).await;
        assert_eq!(answer.status, 200, "{case}, json: {answer:?}");
        assert!(answer.is(JSON), "{case}: {answer:?}");
    }
    let answer = post(
        &app,
        &json!({ "query": "{ conversations { totalCount } }" }),
        None,
    )
    .await;
    assert_eq!(answer.code(), "UNAUTHENTICATED", "{answer:?}");
}

#[tokio::test]
async fn refusals_keep_their_status_under_either_media_type() {
    let app = TestApp::spawn_with_config(|config| config.max_batch = 2).await;
    let one = json!({ "query": "{ __typename }" });
    for accept in [JSON, GRAPHQL_RESPONSE] {
        let answer = post(&app, &json!([one, one, one]), Some(accept)).await;
        assert_eq!(answer.status, 400, "{accept}: {answer:?}");
        assert_eq!(answer.code(), "BATCH_TOO_LARGE", "{accept}: {answer:?}");
        assert!(answer.is(accept), "{accept}: {answer:?}");

        let answer = post(&app, &json!({ "variables": {} }), Some(accept)).await;
        assert_eq!(answer.status, 400, "no query, {accept}: {answer:?}");
        assert_eq!(answer.code(), "BAD_REQUEST", "{accept}: {answer:?}");

        let response = app
            .http()
            .post(app.url("/graphql"))
            .header("content-type", "text/plain")
            .header("accept", accept)
            .body(one.to_string())
            .send()
            .await
            .expect("POST /graphql");
        let answer = Answer::from(response).await;
        assert_eq!(answer.status, 415, "{accept}: {answer:?}");
        assert_eq!(answer.code(), "UNSUPPORTED_MEDIA_TYPE", "{accept}");
    }
    // A batch is 200 whatever its items say; each item drops `data` as a single would.
    let answer = post(
        &app,
        &json!([one, { "query": "{" }]),
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body[0]["data"]["__typename"], "Query", "{answer:?}");
    assert!(answer.body[1].get("data").is_none(), "{answer:?}");

    // After all that, a plain request still succeeds.
    let response = app.graphql("{ __typename }", json!({})).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.data()["__typename"], "Query");
}

#[tokio::test]
async fn get_shares_the_in_flight_cap_with_post() {
    let app = TestApp::spawn_with_config(|config| config.max_concurrent_requests = 1).await;
    // A POST whose body is announced but only half sent holds the one slot, reading.
    let body: &[u8] = br#"{"query":"{ __typename }"}"#;
    let (first, rest) = body.split_at(9);
    let mut held = TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        app.addr,
        body.len()
    );
    held.write_all(head.as_bytes()).await.expect("write head");
    held.write_all(first).await.expect("write part of the body");

    // Until the server has taken up the held request a GET may still pass; once it has,
    // a GET is refused at once.
    let typename = [("query", "{ __typename }")];
    let refused = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            let answer = get(&app, &typename, None).await;
            match answer.status {
                503 => break answer,
                200 => tokio::task::yield_now().await,
                _ => panic!("expected 200 or 503, got {answer:?}"),
            }
        }
    })
    .await
    .expect("a GET past the cap is refused");
    assert_eq!(refused.code(), "OVERLOADED", "{refused:?}");

    held.write_all(rest).await.expect("write the rest");
    let mut response = String::new();
    held.read_to_string(&mut response)
        .await
        .expect("read the response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let answer = get(&app, &typename, None).await;
    assert_eq!(answer.status, 200, "the slot is free again: {answer:?}");
}
