//! The HTTP surface: health routes, GraphiQL, GraphQL over HTTP.

use serde_json::json;
use tests::TestApp;

#[tokio::test]
async fn healthz_answers_while_the_process_runs() {
    let app = TestApp::spawn().await;
    let response = app
        .http()
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("GET /healthz");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn readyz_answers_when_the_database_does_and_503_when_it_does_not() {
    let app = TestApp::spawn().await;
    let response = app
        .http()
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("GET /readyz");
    assert_eq!(response.status(), 200);

    // The server shares its pool with `app.db`: closing it leaves the server with a
    // database that no longer answers.
    app.db.clone().close().await.expect("close the pool");
    let response = app
        .http()
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("GET /readyz");
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn get_graphql_serves_graphiql_to_a_browser() {
    let app = TestApp::spawn().await;
    // 200 with text/html and a Content-Security-Policy, checked there.
    let (page, _) = crate::graphiql::page(&app).await;
    assert!(page.contains("graphiql"), "the page loads GraphiQL");
    assert!(
        page.contains("/graphql/ws"),
        "the page subscribes over /graphql/ws"
    );
}

#[tokio::test]
async fn typename_over_http() {
    let app = TestApp::spawn().await;
    let response = app.graphql("{ __typename }", json!({})).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.data()["__typename"], "Query");
}

#[tokio::test]
async fn me_is_null_without_a_session() {
    let app = TestApp::spawn().await;
    let response = app.graphql("query Me { me { id name } }", json!({})).await;
    assert_eq!(response.data()["me"], serde_json::Value::Null);
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id() {
    let app = TestApp::spawn().await;
    let send = || async {
        let response = app
            .http()
            .post(app.url("/graphql"))
            .header("x-request-id", "client-chosen")
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .expect("POST /graphql");
        response.headers()["x-request-id"]
            .to_str()
            .expect("ascii header")
            .to_owned()
    };
    let first = send().await;
    let second = send().await;
    assert_ne!(first, "client-chosen", "a client cannot choose the id");
    assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first} is a UUID");
    assert_ne!(first, second);
}

#[tokio::test]
async fn a_malformed_query_is_a_graphql_error_not_a_crash() {
    let app = TestApp::spawn().await;
    let response = app.graphql("{ me { ", json!({})).await;
    assert!(
        response.body["errors"][0]["message"].is_string(),
        "{}",
        response.body
    );
    assert_eq!(response.error_code(), "GRAPHQL_VALIDATION_FAILED");
    let response = app.graphql("{ nothingHere }", json!({})).await;
    assert_eq!(response.error_code(), "GRAPHQL_VALIDATION_FAILED");
    let response = app.graphql("{ __typename }", json!({})).await;
    assert_eq!(response.data()["__typename"], "Query");
}
