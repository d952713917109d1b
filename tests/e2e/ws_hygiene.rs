//! What `/graphql/ws` enforces around the GraphQL protocols: the `connection_init` deadline,
//! refusals and protocol errors with the close codes graphql-transport-ws defines, running
//! ids, keep-alives, and the limits on operations per socket and on frame size.

use std::time::{Duration, Instant};

use serde_json::json;
use tests::{InitOutcome, TestApp, WsClient, WsProtocol, bearer};

const PROTOCOLS: [WsProtocol; 2] = [WsProtocol::TransportWs, WsProtocol::LegacyWs];
/// A subscription that runs until it is completed (no message is sent in these tests).
const RECEIVED: &str = "subscription { messageReceived { id } }";
/// An operation that answers once and completes.
const TYPENAME: &str = "{ __typename }";

/// A socket on `app` speaking `protocol`, initialised with a fresh account's token.
async fn initialised(app: &TestApp, protocol: WsProtocol, email: &str) -> WsClient {
    let account = app.sign_up(email).await;
    let mut ws = app.ws(protocol).await;
    match ws.init(bearer(&account.token)).await {
        InitOutcome::Ack => ws,
        InitOutcome::Refused(why) => panic!("{protocol:?}: refused: {why}"),
    }
}

/// Asserts that operation `id` answers `{ __typename }` and completes.
async fn answers_typename(ws: &mut WsClient, id: &str) {
    let result = ws.next_json().await.expect("a result");
    assert!(
        matches!(result["type"].as_str(), Some("next" | "data")),
        "{:?}: {result}",
        ws.protocol
    );
    assert_eq!(result["id"], id, "{result}");
    assert_eq!(result["payload"]["data"]["__typename"], "Query", "{result}");
    let complete = ws.next_json().await.expect("completion");
    assert_eq!(complete["type"], "complete", "{complete}");
    assert_eq!(complete["id"], id, "{complete}");
}

/// Sends the client's end of operation `id`: `complete`, or `stop` in the legacy protocol.
async fn complete(ws: &mut WsClient, id: &str) {
    let kind = match ws.protocol {
        WsProtocol::TransportWs => "complete",
        WsProtocol::LegacyWs => "stop",
    };
    ws.send(json!({ "id": id, "type": kind })).await;
}

#[tokio::test]
async fn a_socket_without_connection_init_is_closed_after_the_init_timeout() {
    let app = TestApp::spawn_with_config(|config| config.ws_init_timeout_secs = 1).await;
    for protocol in PROTOCOLS {
        let mut ws = app.ws(protocol).await;
        let opened = Instant::now();
        assert_eq!(
            ws.next_close().await,
            Some((4408, "Connection initialisation timeout".to_owned())),
            "{protocol:?}"
        );
        assert!(
            opened.elapsed() >= Duration::from_millis(500),
            "{protocol:?}: closed after {:?}, before the timeout",
            opened.elapsed()
        );
    }
}

#[tokio::test]
async fn the_init_timeout_spares_an_initialised_socket() {
    // The first keep-alive comes two seconds after the init deadline has passed (each
    // socket initialises right after it opens, well within the deadline).
    let app = TestApp::spawn_with_config(|config| {
        config.ws_init_timeout_secs = 2;
        config.ws_keepalive_secs = 4;
    })
    .await;
    for (protocol, email) in PROTOCOLS
        .into_iter()
        .zip(["ann@example.io", "bo@example.io"])
    {
        let mut ws = initialised(&app, protocol, email).await;
        let keepalive = ws.next_json_or_keepalive().await.expect("a keep-alive");
        assert!(
            matches!(keepalive["type"].as_str(), Some("ping" | "ka")),
            "{protocol:?}: {keepalive}"
        );
        ws.subscribe("late", TYPENAME).await;
        answers_typename(&mut ws, "late").await;
    }
}

#[tokio::test]
async fn a_connection_init_without_a_valid_token_closes_with_4403() {
    let app = TestApp::spawn().await;
    for payload in [json!({}), bearer("not-a-session-token")] {
        let mut ws = app.ws(WsProtocol::TransportWs).await;
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        assert_eq!(
            ws.next_close().await,
            Some((4403, "Forbidden".to_owned())),
            "{payload}"
        );

        // The legacy protocol says why first, then closes the same way.
        let mut ws = app.ws(WsProtocol::LegacyWs).await;
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let error = ws.next_json().await.expect("connection_error");
        assert_eq!(error["type"], "connection_error", "{error}");
        assert!(error["payload"]["message"].is_string(), "{error}");
        assert_eq!(
            ws.next_close().await,
            Some((4403, "Forbidden".to_owned())),
            "{payload}"
        );
    }
}

#[tokio::test]
async fn a_subscribe_with_a_running_id_closes_with_4409() {
    let app = TestApp::spawn().await;
    let mut ws = initialised(&app, WsProtocol::TransportWs, "ann@example.io").await;
    ws.subscribe("chat", RECEIVED).await;
    ws.subscribe("chat", RECEIVED).await;
    assert_eq!(
        ws.next_close().await,
        Some((4409, "Subscriber for chat already exists".to_owned()))
    );
}

#[tokio::test]
async fn an_operation_id_over_128_bytes_closes_with_4400() {
    let app = TestApp::spawn().await;
    let mut ws = initialised(&app, WsProtocol::TransportWs, "ann@example.io").await;
    ws.subscribe(&"i".repeat(128), TYPENAME).await;
    answers_typename(&mut ws, &"i".repeat(128)).await;
    ws.subscribe(&"i".repeat(129), TYPENAME).await;
    assert_eq!(
        ws.next_close().await,
        Some((4400, "Operation ids are at most 128 bytes".to_owned()))
    );
}

#[tokio::test]
async fn an_id_is_free_again_once_its_operation_completed() {
    let app = TestApp::spawn().await;
    let mut ws = initialised(&app, WsProtocol::TransportWs, "ann@example.io").await;
    // Completed by the server...
    ws.subscribe("q", TYPENAME).await;
    answers_typename(&mut ws, "q").await;
    ws.subscribe("q", TYPENAME).await;
    answers_typename(&mut ws, "q").await;

    // ...or by the client, and reused at once, before the server's `complete` is read.
    ws.subscribe("chat", RECEIVED).await;
    complete(&mut ws, "chat").await;
    ws.subscribe("chat", RECEIVED).await;
    ws.subscribe("other", TYPENAME).await;
    let ended = ws.next_json().await.expect("the first subscription's end");
    assert_eq!(ended, json!({ "type": "complete", "id": "chat" }));
    answers_typename(&mut ws, "other").await;
    // The second `chat` runs: its id is taken.
    ws.subscribe("chat", RECEIVED).await;
    assert_eq!(
        ws.next_close().await,
        Some((4409, "Subscriber for chat already exists".to_owned()))
    );
}

#[tokio::test]
async fn a_close_reason_is_cut_to_123_bytes_on_a_character_boundary() {
    let app = TestApp::spawn().await;
    let mut ws = initialised(&app, WsProtocol::TransportWs, "ann@example.io").await;
    // "Subscriber for x" is 16 bytes, then two-byte characters: byte 123 is inside one.
    let id = format!("x{}", "é".repeat(55));
    ws.subscribe(&id, RECEIVED).await;
    ws.subscribe(&id, RECEIVED).await;
    let (code, reason) = ws.next_close().await.expect("a close frame");
    assert_eq!(code, 4409);
    assert_eq!(reason.len(), 122, "{reason}");
    assert!(format!("Subscriber for {id} already exists").starts_with(&reason));
}

#[tokio::test]
async fn an_idle_socket_gets_keepalives_in_both_protocols() {
    let app = TestApp::spawn_with_config(|config| config.ws_keepalive_secs = 1).await;
    for (protocol, email) in PROTOCOLS
        .into_iter()
        .zip(["ann@example.io", "bo@example.io"])
    {
        let mut ws = initialised(&app, protocol, email).await;
        let expected = match protocol {
            WsProtocol::TransportWs => json!({ "type": "ping" }),
            WsProtocol::LegacyWs => json!({ "type": "ka" }),
        };
        for _ in 0..2 {
            let keepalive = ws.next_json_or_keepalive().await.expect("a keep-alive");
            assert_eq!(keepalive, expected, "{protocol:?}");
            if protocol == WsProtocol::TransportWs {
                ws.send(json!({ "type": "pong" })).await;
            }
        }
        ws.subscribe("after", TYPENAME).await;
        answers_typename(&mut ws, "after").await;
    }
}

#[tokio::test]
async fn a_client_ping_is_still_answered_with_a_pong() {
    let app = TestApp::spawn().await;
    let mut ws = initialised(&app, WsProtocol::TransportWs, "ann@example.io").await;
    ws.send(json!({ "type": "ping" })).await;
    let pong = ws.next_json().await.expect("a pong");
    assert_eq!(pong["type"], "pong", "{pong}");
    ws.send(json!({ "type": "pong" })).await;
    ws.subscribe("after", TYPENAME).await;
    answers_typename(&mut ws, "after").await;
}

#[tokio::test]
async fn past_the_operation_limit_a_subscribe_gets_an_error_and_the_socket_stays_up() {
    let app = TestApp::spawn_with_config(|config| config.ws_max_subscriptions = 2).await;
    for (protocol, email) in PROTOCOLS
        .into_iter()
        .zip(["ann@example.io", "bo@example.io"])
    {
        let mut ws = initialised(&app, protocol, email).await;
        ws.subscribe("a", RECEIVED).await;
        ws.subscribe("b", RECEIVED).await;
        ws.subscribe("c", RECEIVED).await;
        let refused = ws.next_json().await.expect("an error");
        assert_eq!(refused["type"], "error", "{protocol:?}: {refused}");
        assert_eq!(refused["id"], "c", "{refused}");
        let error = match protocol {
            WsProtocol::TransportWs => &refused["payload"][0],
            WsProtocol::LegacyWs => &refused["payload"],
        };
        assert_eq!(
            error["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS",
            "{protocol:?}: {refused}"
        );

        // `a` still runs (the server answers its end), and its place is free again.
        complete(&mut ws, "a").await;
        let ended = ws.next_json().await.expect("a's end");
        assert_eq!(
            ended,
            json!({ "type": "complete", "id": "a" }),
            "{protocol:?}"
        );
        ws.subscribe("c", TYPENAME).await;
        answers_typename(&mut ws, "c").await;
        complete(&mut ws, "b").await;
        let ended = ws.next_json().await.expect("b's end");
        assert_eq!(
            ended,
            json!({ "type": "complete", "id": "b" }),
            "{protocol:?}"
        );
    }
}

#[tokio::test]
async fn a_frame_over_the_size_limit_closes_with_1009() {
    let app = TestApp::spawn_with_config(|config| config.max_body_bytes = 8 * 1024).await;
    let mut ws = initialised(&app, WsProtocol::TransportWs, "ann@example.io").await;
    // Under the limit: served.
    let padded = format!("{{ __typename }} # {}", "x".repeat(4 * 1024));
    ws.subscribe("small", &padded).await;
    answers_typename(&mut ws, "small").await;
    let query = format!("{{ __typename }} # {}", "x".repeat(16 * 1024));
    ws.subscribe("big", &query).await;
    assert_eq!(
        ws.next_close().await,
        Some((1009, "Message too big".to_owned()))
    );
}

#[tokio::test]
async fn protocol_errors_close_with_graphql_transport_ws_codes() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let init = json!({ "type": "connection_init", "payload": bearer(&ann.token) });
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": TYPENAME } });
    let cases: [(&str, Vec<String>, u16); 4] = [
        ("not JSON", vec!["{".into()], 4400),
        (
            "no type",
            vec![init.to_string(), json!({ "id": "1" }).to_string()],
            4400,
        ),
        ("subscribe before init", vec![subscribe.to_string()], 4401),
        (
            "a second init",
            vec![init.to_string(), init.to_string()],
            4429,
        ),
    ];
    for (case, frames, code) in cases {
        let mut ws = app.ws(WsProtocol::TransportWs).await;
        for frame in frames {
            ws.send_text(frame).await;
        }
        let (closed_with, reason) = ws.next_close().await.expect("a close frame");
        assert_eq!(closed_with, code, "{case}: {reason}");
    }
}

#[tokio::test]
async fn the_client_s_first_protocol_is_the_one_named_and_spoken() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let url = format!("ws://{}/graphql/ws", app.addr);
    let mut ws = WsClient::connect_offering(&url, "graphql-ws, graphql-transport-ws").await;
    assert_eq!(ws.protocol, WsProtocol::LegacyWs);
    assert!(matches!(
        ws.init(bearer(&ann.token)).await,
        InitOutcome::Ack
    ));
    // `start` and `data` are the legacy protocol's words.
    ws.subscribe("1", TYPENAME).await;
    let result = ws.next_json().await.expect("a result");
    assert_eq!(result["type"], "data", "{result}");
}
