//! The response's media type from `Accept`, and the status codes each media type calls for.

use super::*;

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
