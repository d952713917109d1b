//! GraphQL over WebSocket on `/graphql/ws`, in both sub-protocols.

use serde_json::json;
use tests::{InitOutcome, TestApp, WsProtocol, bearer};

#[tokio::test]
async fn connection_init_is_acknowledged_in_both_protocols() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    for protocol in [WsProtocol::TransportWs, WsProtocol::LegacyWs] {
        let mut ws = app.ws(protocol).await;
        match ws.init(bearer(&ann.token)).await {
            InitOutcome::Ack => {}
            InitOutcome::Refused(why) => panic!("{protocol:?}: refused: {why}"),
        }
    }
}

#[tokio::test]
async fn a_query_runs_over_the_socket() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let mut ws = app.ws(WsProtocol::TransportWs).await;
    assert!(matches!(
        ws.init(bearer(&ann.token)).await,
        InitOutcome::Ack
    ));
    ws.send(json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": "{ __typename }" }
    }))
    .await;
    let next = ws.next_json().await.expect("a result");
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(next["id"], "1");
    assert_eq!(next["payload"]["data"]["__typename"], "Query");
    let complete = ws.next_json().await.expect("completion");
    assert_eq!(complete["type"], "complete", "{complete}");
}

#[tokio::test]
async fn an_unknown_subprotocol_is_refused() {
    let app = TestApp::spawn().await;
    let response = app
        .http()
        .get(app.url("/graphql/ws"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-protocol", "chat")
        .send()
        .await
        .expect("GET /graphql/ws");
    assert_eq!(response.status(), 400);
}
