//! The caps on WebSockets (per instance, per account) and the time limit on queries and
//! mutations sent over one.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use serde_json::{Value, json};
use tests::{InitOutcome, TestApp, WsClient, WsProtocol, bearer};

const PROTOCOLS: [WsProtocol; 2] = [WsProtocol::TransportWs, WsProtocol::LegacyWs];
/// Longest wait for a closed socket's place to come back.
const WAIT: Duration = Duration::from_secs(10);

async fn init(app: &TestApp, protocol: WsProtocol, token: &str) -> (WsClient, InitOutcome) {
    let mut ws = app.ws(protocol).await;
    let outcome = ws.init(bearer(token)).await;
    (ws, outcome)
}

/// Whether a socket for `token` is acknowledged again within [`WAIT`], once the server has
/// counted a closed one out.
async fn reopens(app: &TestApp, protocol: WsProtocol, token: &str) -> bool {
    tokio::time::timeout(WAIT, async {
        loop {
            match init(app, protocol, token).await {
                (ws, InitOutcome::Ack) => return ws,
                _ => tokio::task::yield_now().await,
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn an_account_past_its_socket_cap_is_closed_with_4420_and_others_are_not() {
    let app = TestApp::spawn_with_config(|config| config.ws_max_sockets_per_user = 2).await;
    let ann = app.sign_up("ann@example.com").await;
    let bo = app.sign_up("bo@example.com").await;
    for protocol in PROTOCOLS {
        let (first, outcome) = init(&app, protocol, &ann.token).await;
        assert!(matches!(outcome, InitOutcome::Ack), "{protocol:?}");
        let (_second, outcome) = init(&app, protocol, &ann.token).await;
        assert!(matches!(outcome, InitOutcome::Ack), "{protocol:?}");

        let mut third = app.ws(protocol).await;
        third
            .send(json!({ "type": "connection_init", "payload": bearer(&ann.token) }))
            .await;
        let (code, reason) = third.next_close().await.expect("a close frame");
        assert_eq!(code, 4420, "{protocol:?}: {reason}");
        assert!(reason.contains("account"), "{reason}");

        let (_other, outcome) = init(&app, protocol, &bo.token).await;
        assert!(
            matches!(outcome, InitOutcome::Ack),
            "{protocol:?}: another account is not held back"
        );

        // A socket that closes gives its place back.
        drop(first);
        assert!(
            reopens(&app, protocol, &ann.token).await,
            "{protocol:?}: the closed socket's place came back"
        );
    }
}

#[tokio::test]
async fn a_socket_past_the_instance_cap_is_closed_at_its_connection_init_with_4421() {
    let app = TestApp::spawn_with_config(|config| config.ws_max_sockets = 1).await;
    let ann = app.sign_up("ann@example.com").await;
    for protocol in PROTOCOLS {
        let (open, outcome) = init(&app, protocol, &ann.token).await;
        assert!(matches!(outcome, InitOutcome::Ack), "{protocol:?}");
        // A socket that has not sent `connection_init` holds no place.
        let _waiting = app.ws(protocol).await;
        let mut refused = app.ws(protocol).await;
        refused
            .send(json!({ "type": "connection_init", "payload": bearer(&ann.token) }))
            .await;
        let (code, reason) = refused.next_close().await.expect("a close frame");
        assert_eq!(code, 4421, "{protocol:?}: {reason}");
        drop(open);
        assert!(
            reopens(&app, protocol, &ann.token).await,
            "{protocol:?}: the closed socket's place came back"
        );
    }
}

#[tokio::test]
async fn a_mutation_over_a_socket_past_the_request_timeout_is_stopped_with_timeout() {
    let app = TestApp::spawn_with_config(|config| config.request_timeout_secs = 1).await;
    let ann = app.sign_up("ann@example.com").await;
    let workspace = app.create_workspace(&ann, "Acme").await;
    let (mut ws, outcome) = init(&app, WsProtocol::TransportWs, &ann.token).await;
    assert!(matches!(outcome, InitOutcome::Ack));

    // The test holds the workspace's row (SQLite: the write lock) in an open transaction,
    // so the mutation waits for it for longer than the limit.
    let lock = app.db.begin().await.expect("begin");
    let backend = lock.get_database_backend();
    let touch = match backend {
        sea_orm::DbBackend::Postgres => "UPDATE workspaces SET name = name WHERE id = $1",
        _ => "UPDATE workspaces SET name = name WHERE id = ?",
    };
    let id_value: sea_orm::Value = uuid::Uuid::parse_str(&workspace).expect("a uuid").into();
    lock.execute_raw(Statement::from_sql_and_values(backend, touch, [id_value]))
        .await
        .expect("lock the row");

    ws.send(json!({
        "id": "rename",
        "type": "subscribe",
        "payload": {
            "query": "mutation R($input: UpdateWorkspaceInput!) { updateWorkspace(input: $input) { id } }",
            "variables": { "input": { "id": workspace, "name": "Renamed" } },
        },
    }))
    .await;
    let answer = ws.next_json().await.expect("an answer");
    lock.rollback().await.expect("roll back");
    let errors = match answer["type"].as_str() {
        Some("error") => answer["payload"].clone(),
        _ => answer["payload"]["errors"].clone(),
    };
    assert_eq!(errors[0]["extensions"]["code"], "TIMEOUT", "{answer}");
    let complete = ws.next_json().await.expect("completion");
    assert_eq!(complete["type"], "complete", "{complete}");

    // The socket goes on.
    ws.subscribe("after", "{ __typename }").await;
    let next = ws.next_json().await.expect("a result");
    assert_eq!(next["payload"]["data"]["__typename"], "Query", "{next}");
}

#[tokio::test]
async fn a_subscriber_that_never_reads_loses_its_socket_after_the_write_timeout() {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

    let app = TestApp::spawn_with_config(|config| {
        config.write_timeout_secs = 1;
        config.ws_max_subscriptions = 1000;
    })
    .await;
    let ann = app.sign_up("ann@example.com").await;

    // Ann's socket has a small receive buffer and, once acknowledged, is not read.
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("a small receive buffer");
    let stream = socket.connect(app.addr).await.expect("connect");
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .expect("a request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("a header value"),
    );
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .expect("the handshake");
    let text = |value: Value| Message::text(value.to_string());
    ws.send(text(
        json!({ "type": "connection_init", "payload": bearer(&ann.token) }),
    ))
    .await
    .expect("send connection_init");
    let ack = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("an answer");
    assert!(
        matches!(&ack, Some(Ok(Message::Text(text))) if text.contains("connection_ack")),
        "{ack:?}"
    );

    // Each answer is the schema's introspection (tens of KB): together far more than the
    // socket buffers (a few MB) between the server and a client that does not read.
    let introspection = "{ __schema { types { name description fields { name description \
                         args { name description } } } } }";
    let sent = 300;
    for n in 0..sent {
        ws.send(text(json!({
            "id": format!("schema {n}"),
            "type": "subscribe",
            "payload": { "query": introspection },
        })))
        .await
        .expect("send subscribe");
    }
    // Not reading is the point: the server's writes stall until its write timeout drops
    // the connection, which a write of ours then finds reset.
    let cut = tokio::time::timeout(WAIT, async {
        let mut every = tokio::time::interval(Duration::from_millis(50));
        loop {
            every.tick().await;
            if ws.send(Message::Ping(Vec::new().into())).await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(
        cut.is_ok(),
        "the server kept a socket whose client reads nothing"
    );
    let mut completed = 0;
    let ended = tokio::time::timeout(WAIT, async {
        while let Some(Ok(message)) = ws.next().await {
            if matches!(&message, Message::Text(text) if text.contains(r#""type":"complete""#)) {
                completed += 1;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the server kept the unread socket open ({completed} of {sent} answers read)"
    );
    assert!(
        completed < sent,
        "the socket was cut before all {sent} answers: got {completed}"
    );
}
