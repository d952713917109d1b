//! Queries over `GET`: the same path and limits as `POST`, a mutation 405 and run never,
//! GraphiQL or 400 without a query, the one in-flight cap.

use super::*;

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
