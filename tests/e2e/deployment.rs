//! Settings a production deployment changes: introspection off, a CORS allow-list, an
//! automatic persisted query cache; each seen from a client's side.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tests::TestApp;

#[tokio::test]
async fn with_introspection_off_the_schema_is_not_answered_and_nothing_is_suggested() {
    let app = TestApp::spawn_with_config(|config| config.introspection = Some(false)).await;
    for query in [
        "{ __schema { types { name } } }",
        "{ __type(name: \"User\") { name } }",
        "query { ...F } fragment F on Query { __schema { queryType { name } } }",
    ] {
        let response = app.graphql(query, json!({})).await;
        assert_eq!(response.error_code(), "INTROSPECTION_DISABLED", "{query}");
        assert!(
            response.body.get("data").is_none_or(Value::is_null),
            "{}",
            response.body
        );
    }
    // `__typename` is not introspection of the schema: clients need it.
    let response = app.graphql("{ __typename }", json!({})).await;
    assert_eq!(response.data()["__typename"], "Query");

    // A misspelt field is refused without naming the real one.
    let response = app
        .graphql("{ workspacez { totalCount } }", json!({}))
        .await;
    let message = response.body["errors"][0]["message"]
        .as_str()
        .expect("an error message");
    assert!(!message.contains("workspaces"), "{message}");

    // Queries still run.
    let ann = app.sign_up("ann@example.io").await;
    let me = app
        .graphql_as(Some(&ann.token), "{ me { id } }", json!({}))
        .await;
    assert_eq!(me.data()["me"]["id"], ann.id.as_str());
}

#[tokio::test]
async fn introspection_and_suggestions_are_on_by_default() {
    let app = TestApp::spawn().await;
    let response = app
        .graphql("{ workspacez { totalCount } }", json!({}))
        .await;
    let message = response.body["errors"][0]["message"]
        .as_str()
        .expect("an error message");
    assert!(message.contains("workspaces"), "{message}");
    let response = app
        .graphql("{ __type(name: \"User\") { name } }", json!({}))
        .await;
    assert_eq!(response.data()["__type"]["name"], "User");
}

/// A preflight for `POST /graphql` from `origin`: the response's
/// `access-control-allow-origin`, if any.
async fn preflight(app: &TestApp, origin: &str) -> Option<String> {
    let response = app
        .http()
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("OPTIONS /graphql");
    let allowed = response
        .headers()
        .get("access-control-allow-origin")
        .map(|value| value.to_str().unwrap_or_default().to_owned());
    if allowed.is_some() {
        let headers = response
            .headers()
            .get("access-control-allow-headers")
            .map(|value| value.to_str().unwrap_or_default().to_ascii_lowercase())
            .unwrap_or_default();
        assert!(headers.contains("authorization"), "{headers}");
        assert!(headers.contains("content-type"), "{headers}");
    }
    allowed
}

#[tokio::test]
async fn cors_answers_only_the_listed_origins() {
    let app = TestApp::spawn_with_config(|config| {
        config.cors_origins = "https://app.example.com, http://localhost:5173".into();
    })
    .await;
    assert_eq!(
        preflight(&app, "https://app.example.com").await.as_deref(),
        Some("https://app.example.com")
    );
    assert_eq!(
        preflight(&app, "http://localhost:5173").await.as_deref(),
        Some("http://localhost:5173")
    );
    assert_eq!(preflight(&app, "https://evil.example.net").await, None);

    // The actual request from a listed origin carries the header, and exposes the request id.
    let response = app
        .http()
        .post(app.url("/graphql"))
        .header("origin", "https://app.example.com")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("POST /graphql");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap_or_default().to_ascii_lowercase())
    };
    assert_eq!(
        header("access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    assert!(
        header("access-control-expose-headers")
            .unwrap_or_default()
            .contains("x-request-id")
    );
}

#[tokio::test]
async fn without_an_allow_list_no_origin_is_answered() {
    let app = TestApp::spawn().await;
    assert_eq!(preflight(&app, "https://app.example.com").await, None);
}

/// `extensions` naming `document` by its hash, as Apollo's persisted-queries link sends it.
fn persisted_query(document: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(document) } })
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

async fn post(app: &TestApp, token: &str, body: &Value) -> Value {
    app.http()
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("a JSON answer")
}

/// `GET /graphql` with only `extensions` (a persisted query's hash): status and body.
async fn get_by_hash(app: &TestApp, token: &str, extensions: &Value) -> (u16, Value) {
    let url = reqwest::Url::parse_with_params(
        &app.url("/graphql"),
        [("extensions", extensions.to_string())],
    )
    .expect("a valid URL");
    let response = app
        .http()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("GET /graphql");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

#[tokio::test]
async fn persisted_queries_go_by_hash_once_the_server_has_the_document() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let query = "query Me { me { id email } }";
    let extension = persisted_query(query);

    // The hash alone: not known yet.
    let body = post(&app, &ann.token, &json!({ "extensions": extension })).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");

    // With the document: it runs, and the server keeps it.
    let body = post(
        &app,
        &ann.token,
        &json!({ "query": query, "extensions": extension }),
    )
    .await;
    assert_eq!(body["data"]["me"]["id"], ann.id.as_str(), "{body}");

    // The hash alone now runs it, over POST and over GET.
    let body = post(&app, &ann.token, &json!({ "extensions": extension })).await;
    assert_eq!(body["data"]["me"]["email"], "ann@example.io", "{body}");
    let (_, body) = get_by_hash(&app, &ann.token, &extension).await;
    assert_eq!(body["data"]["me"]["id"], ann.id.as_str(), "{body}");

    // A kept mutation can't be run by its hash over GET: GET runs queries only.
    let mutation = "mutation { createWorkspace(input: { name: \"Via GET\" }) { id } }";
    let by_hash = persisted_query(mutation);
    let body = post(
        &app,
        &ann.token,
        &json!({ "query": mutation, "extensions": by_hash }),
    )
    .await;
    assert!(body["data"]["createWorkspace"]["id"].is_string(), "{body}");
    let (status, body) = get_by_hash(&app, &ann.token, &by_hash).await;
    assert_eq!(status, 405, "{body}");
    let count = post(
        &app,
        &ann.token,
        &json!({ "query": "{ workspaces { totalCount } }" }),
    )
    .await;
    assert_eq!(count["data"]["workspaces"]["totalCount"], 1, "{count}");

    // A document refused by the limits is not kept.
    let deep = format!("{{ {}id{} }}", "me { ".repeat(13), " }".repeat(13));
    let deep_hash = persisted_query(&deep);
    let body = post(
        &app,
        &ann.token,
        &json!({ "query": deep, "extensions": deep_hash }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "QUERY_TOO_DEEP",
        "{body}"
    );
    let body = post(&app, &ann.token, &json!({ "extensions": deep_hash })).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{body}"
    );

    // A hash that is not the document's is refused and runs nothing.
    let wrong = persisted_query("{ x }");
    let body = post(
        &app,
        &ann.token,
        &json!({ "query": query, "extensions": wrong }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert!(body["data"].is_null(), "{body}");
}

#[tokio::test]
async fn with_persisted_queries_off_a_hash_alone_is_not_supported() {
    let app = TestApp::spawn_with_config(|config| config.persisted_queries = 0).await;
    let ann = app.sign_up("ann@example.io").await;
    let query = "{ me { id } }";
    let extension = persisted_query(query);
    let body = post(&app, &ann.token, &json!({ "extensions": extension })).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_SUPPORTED",
        "{body}"
    );
    // With the document it runs as any request.
    let body = post(
        &app,
        &ann.token,
        &json!({ "query": query, "extensions": extension }),
    )
    .await;
    assert_eq!(body["data"]["me"]["id"], ann.id.as_str(), "{body}");
}
