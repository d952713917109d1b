//! `GET /metrics`: each family changes as it should after a request, read by parsing the
//! OpenMetrics text (samples by name and labels), not by matching strings.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tests::{InitOutcome, TestApp, WsProtocol, bearer};

/// One sample: its name, its labels and its value.
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of an OpenMetrics text, comments skipped. Label values here hold no `,`,
/// `"` or `}`, which keeps the parser short.
fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("a sample has a value: {line}"));
            let value = value
                .parse::<f64>()
                .unwrap_or_else(|err| panic!("a number in {line}: {err}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let inner = rest.trim_end_matches('}');
                    let labels = inner
                        .split(',')
                        .filter(|pair| !pair.is_empty())
                        .map(|pair| {
                            let (key, value) = pair
                                .split_once('=')
                                .unwrap_or_else(|| panic!("a label pair in {line}"));
                            (key.to_owned(), value.trim_matches('"').to_owned())
                        })
                        .collect();
                    (name.to_owned(), labels)
                }
                None => (series.to_owned(), BTreeMap::new()),
            };
            Sample {
                name,
                labels,
                value,
            }
        })
        .collect()
}

/// The metrics now.
async fn scrape(app: &TestApp) -> Vec<Sample> {
    let response = app
        .http()
        .get(app.metrics_url())
        .send()
        .await
        .unwrap_or_else(|err| panic!("GET /metrics: {err}"));
    assert_eq!(response.status(), 200, "GET /metrics answers");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response
        .text()
        .await
        .unwrap_or_else(|err| panic!("read /metrics: {err}"));
    assert!(text.ends_with("# EOF\n"), "a whole exposition: {text}");
    parse(&text)
}

/// The value of the sample `name` with (at least) `labels`; 0 when there is none.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|sample| sample.name == name)
        .filter(|sample| {
            labels
                .iter()
                .all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(value))
        })
        .map(|sample| sample.value)
        .sum()
}

/// POSTs `body` to `/graphql` as `token` once (the harness's GraphQL helpers may run a
/// query twice, on both paths, in debug builds); answers the status.
async fn post(app: &TestApp, token: Option<&str>, body: Value) -> u16 {
    let mut request = app.http().post(app.url("/graphql")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request
        .send()
        .await
        .unwrap_or_else(|err| panic!("POST /graphql: {err}"))
        .status()
        .as_u16()
}

const REQUESTS: &str = "workgraph_graphql_requests_total";

#[tokio::test]
async fn requests_are_counted_by_transport_operation_type_and_outcome() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.com").await;
    let before = scrape(&app).await;
    assert!(
        value(
            &before,
            REQUESTS,
            &[
                ("transport", "http"),
                ("operation", "mutation"),
                ("outcome", "ok")
            ]
        ) >= 1.0,
        "the sign-up counted"
    );

    assert_eq!(
        post(&app, Some(&ann.token), json!({ "query": "{ me { id } }" })).await,
        200
    );
    post(&app, Some(&ann.token), json!({ "query": "{ nope }" })).await;
    let refused = app
        .http()
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body("{ me { id } }")
        .send()
        .await
        .unwrap_or_else(|err| panic!("POST text/plain: {err}"));
    assert_eq!(refused.status(), 415);

    let after = scrape(&app).await;
    let delta = |labels: &[(&str, &str)]| {
        value(&after, REQUESTS, labels) - value(&before, REQUESTS, labels)
    };
    let http = ("transport", "http");
    assert_eq!(
        delta(&[http, ("operation", "query"), ("outcome", "ok")]),
        1.0
    );
    assert_eq!(
        delta(&[
            http,
            ("operation", "query"),
            ("outcome", "GRAPHQL_VALIDATION_FAILED")
        ]),
        1.0
    );
    assert_eq!(
        delta(&[
            http,
            ("operation", "unknown"),
            ("outcome", "UNSUPPORTED_MEDIA_TYPE")
        ]),
        1.0
    );
    assert_eq!(delta(&[http]), 3.0, "nothing else was counted");
}

#[tokio::test]
async fn latency_is_recorded_by_operation_name_and_statements_per_request() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.com").await;
    let before = scrape(&app).await;
    let latency = "workgraph_graphql_operation_duration_seconds_count";
    let statements = "workgraph_sql_statements_per_request";

    post(
        &app,
        Some(&ann.token),
        json!({ "query": "query Mine { me { id email } }", "operationName": "Mine" }),
    )
    .await;
    post(&app, Some(&ann.token), json!({ "query": "{ me { id } }" })).await;

    let after = scrape(&app).await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert_eq!(delta(latency, &[("operation_name", "Mine")]), 1.0);
    assert_eq!(delta(latency, &[("operation_name", "(anonymous)")]), 1.0);
    assert_eq!(delta(&format!("{statements}_count"), &[]), 2.0);
    // Each read the session at least.
    assert!(delta(&format!("{statements}_sum"), &[]) >= 2.0);
}

#[tokio::test]
async fn the_pool_and_open_websockets_are_gauged() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.com").await;
    let sockets = "workgraph_websockets_open";
    let pool = "workgraph_db_connections";
    assert_eq!(value(&scrape(&app).await, sockets, &[]), 0.0);

    let mut ws = app.ws(WsProtocol::TransportWs).await;
    assert!(matches!(
        ws.init(bearer(&ann.token)).await,
        InitOutcome::Ack
    ));
    let open = scrape(&app).await;
    assert_eq!(value(&open, sockets, &[]), 1.0);
    let in_use = value(&open, pool, &[("state", "in_use")]);
    let idle = value(&open, pool, &[("state", "idle")]);
    assert!(in_use >= 0.0 && idle >= 0.0);
    assert!(
        in_use + idle >= 1.0,
        "the pool holds the connections that served the sign-up"
    );
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let app = TestApp::spawn_with_config(|config| config.metrics = false).await;
    let response = app
        .http()
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap_or_else(|err| panic!("GET /metrics: {err}"));
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_metrics_address_serves_them_apart() {
    let app = TestApp::spawn_with_config(|config| {
        config.metrics_addr = Some(([127, 0, 0, 1], 0).into());
    })
    .await;
    assert_ne!(app.metrics_url(), app.url("/metrics"));
    let main = app
        .http()
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap_or_else(|err| panic!("GET /metrics on the main address: {err}"));
    assert_eq!(main.status(), 404, "not on the public address");
    app.sign_up("ann@example.com").await;
    let samples = scrape(&app).await;
    assert!(value(&samples, REQUESTS, &[("operation", "mutation")]) >= 1.0);
}

/// Scrapes until `gauge` reads `expected` (the socket's messages are handled apart from
/// the test), for at most 5 s; answers the samples that showed it.
async fn scrape_until(app: &TestApp, gauge: &str, expected: f64) -> Vec<Sample> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let samples = scrape(app).await;
        if value(&samples, gauge, &[]) == expected {
            return samples;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{gauge} never read {expected}"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn operations_over_a_websocket_are_counted_and_subscriptions_gauged() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.com").await;
    let active = "workgraph_subscriptions_active";
    let before = scrape(&app).await;
    assert_eq!(value(&before, active, &[]), 0.0);

    let mut ws = app.ws(WsProtocol::TransportWs).await;
    assert!(matches!(
        ws.init(bearer(&ann.token)).await,
        InitOutcome::Ack
    ));
    ws.subscribe("chat", "subscription { messageReceived { id } }")
        .await;
    scrape_until(&app, active, 1.0).await;

    ws.subscribe("me", "query Me { me { id } }").await;
    let reply = ws.next_json().await.unwrap_or_else(|| panic!("an answer"));
    assert_eq!(reply["id"], "me", "{reply}");
    assert_eq!(
        reply["payload"]["data"]["me"]["id"],
        json!(ann.id),
        "{reply}"
    );
    let after = scrape(&app).await;
    let websocket = ("transport", "websocket");
    let delta = |labels: &[(&str, &str)]| {
        value(&after, REQUESTS, labels) - value(&before, REQUESTS, labels)
    };
    assert_eq!(
        delta(&[websocket, ("operation", "query"), ("outcome", "ok")]),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "workgraph_graphql_operation_duration_seconds_count",
            &[("operation_name", "Me")]
        ),
        1.0
    );

    ws.send(json!({ "id": "chat", "type": "complete" })).await;
    scrape_until(&app, active, 0.0).await;
}

#[tokio::test]
async fn rate_limit_refusals_are_counted_by_limit() {
    let app = TestApp::spawn_with_config(|config| config.chat_sends_per_minute = 1).await;
    let trio = crate::chat::trio(&app).await;
    let limited = "workgraph_rate_limited_total";
    assert_eq!(value(&scrape(&app).await, limited, &[]), 0.0);
    crate::chat::send(&app, &trio.ann, &trio.bo.email, "one").await;
    let refused = crate::chat::try_send(&app, Some(&trio.ann.token), &trio.bo.email, "two").await;
    assert_eq!(refused.error_code(), "RATE_LIMITED");
    let samples = scrape(&app).await;
    assert_eq!(value(&samples, limited, &[("limit", "chat_send")]), 1.0);
    assert_eq!(value(&samples, limited, &[("limit", "log_in")]), 0.0);
}

#[tokio::test]
async fn chat_fan_out_lag_is_recorded_per_delivery() {
    let app = TestApp::spawn().await;
    let trio = crate::chat::trio(&app).await;
    let lag = "workgraph_chat_fanout_lag_seconds_count";
    assert_eq!(value(&scrape(&app).await, lag, &[]), 0.0);
    let mut ws = crate::chat_live::subscribed(&app, WsProtocol::TransportWs, &trio.ann.token).await;
    crate::chat_live::until_live(&app, &trio.bo, &trio.ann.email, &mut [&mut ws]).await;
    assert!(
        value(&scrape(&app).await, lag, &[]) >= 1.0,
        "the probes that arrived"
    );
}

#[tokio::test]
async fn planner_fallbacks_are_counted_by_reason() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.com").await;
    let fallbacks = "workgraph_planner_fallbacks_total";
    let before = scrape(&app).await;
    // Anonymous: no viewer to plan for.
    post(&app, None, json!({ "query": "{ __typename }" })).await;
    // Signed in, through a field the plan does not cover.
    post(&app, Some(&ann.token), json!({ "query": "{ me { id } }" })).await;
    let after = scrape(&app).await;
    let delta = |reason: &str| {
        value(&after, fallbacks, &[("reason", reason)])
            - value(&before, fallbacks, &[("reason", reason)])
    };
    assert_eq!(delta("no_session"), 1.0);
    assert_eq!(delta("unplanned_selection"), 1.0);
}
