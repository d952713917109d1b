//! `messageReceived` over both WebSocket protocols: who hears a message, how soon, what a
//! log-out ends, and (on PostgreSQL) delivery across server instances.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::{Account, InitOutcome, Instance, TestApp, WsClient, WsProtocol, bearer};

use crate::chat::{Trio, send, str_at, trio};

const RECEIVED: &str =
    "subscription { messageReceived { id content sender { id } recipientEmail } }";
/// How soon a subscriber must hear of a message once `sendMessage` has answered.
const PROMPTLY: Duration = Duration::from_secs(1);
const PROTOCOLS: [WsProtocol; 2] = [WsProtocol::TransportWs, WsProtocol::LegacyWs];

/// A socket on `instance`, signed in with `token`, subscribed to `messageReceived`.
pub async fn subscribed(instance: &Instance, protocol: WsProtocol, token: &str) -> WsClient {
    let mut ws = instance.ws(protocol).await;
    match ws.init(bearer(token)).await {
        InitOutcome::Ack => {}
        InitOutcome::Refused(why) => panic!("{protocol:?}: refused: {why}"),
    }
    ws.subscribe("chat", RECEIVED).await;
    ws
}

/// The operation message `ws` receives next: `next`/`data` of the subscription.
async fn next_result(ws: &mut WsClient) -> Value {
    let message = ws
        .next_json()
        .await
        .unwrap_or_else(|| panic!("{:?}: the socket closed", ws.protocol));
    let kind = message["type"].as_str();
    assert!(matches!(kind, Some("next" | "data")), "a result: {message}");
    assert_eq!(message["id"], "chat");
    message["payload"].clone()
}

/// The message the subscription on `ws` delivers next.
pub async fn next_received(ws: &mut WsClient) -> Value {
    let payload = next_result(ws).await;
    assert!(payload.get("errors").is_none(), "{payload}");
    payload["data"]["messageReceived"].clone()
}

/// Returns once every subscription on `sockets` is live. A subscription gives no sign
/// that it has started, and a message sent before then is not for it, so `prober` sends
/// probes to `to` until each socket has received the latest one. Messages reach a
/// subscription in the order they were sent (on PostgreSQL, in commit order through each
/// instance's listener), so no probe is left to arrive afterwards.
pub async fn until_live(
    instance: &Instance,
    prober: &Account,
    to: &str,
    sockets: &mut [&mut WsClient],
) {
    for attempt in 1..=8_u64 {
        let probe = format!("probe {attempt}");
        send(instance, prober, to, &probe).await;
        let mut everywhere = true;
        for ws in sockets.iter_mut() {
            everywhere &= arrives(ws, &probe, Duration::from_millis(250 * attempt)).await;
        }
        if everywhere {
            return;
        }
    }
    panic!("the subscriptions did not start");
}

/// Whether `probe` reaches `ws` within `wait`; earlier probes are passed over.
async fn arrives(ws: &mut WsClient, probe: &str, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(message) = ws.next_json_within(left).await else {
            return false;
        };
        let message = message.unwrap_or_else(|| panic!("{:?}: the socket closed", ws.protocol));
        let content = message["payload"]["data"]["messageReceived"]["content"].as_str();
        if content == Some(probe) {
            return true;
        }
        assert!(
            content.is_some_and(|content| content.starts_with("probe ")),
            "nothing but probes yet: {message}"
        );
    }
}

/// Sends through `via` and returns the message as `sendMessage` answered it, with the
/// moment it answered.
async fn send_timed(via: &Instance, from: &Account, to: &str, content: &str) -> (Value, Instant) {
    let sent = send(via, from, to, content).await;
    (sent, Instant::now())
}

/// Asserts that `ws` delivers `sent` (as `sendMessage` answered it) within [`PROMPTLY`]
/// of `answered`.
async fn delivers(ws: &mut WsClient, sent: &Value, answered: Instant) {
    let received = next_received(ws).await;
    let latency = answered.elapsed();
    assert!(
        latency < PROMPTLY,
        "{:?}: delivered after {latency:?}",
        ws.protocol
    );
    assert_eq!(received["id"], sent["id"]);
    assert_eq!(received["content"], sent["content"]);
    assert_eq!(received["sender"], sent["sender"]);
    assert_eq!(received["recipientEmail"], sent["recipientEmail"]);
}

#[tokio::test]
async fn a_message_reaches_its_recipient_and_its_sender_in_both_protocols() {
    let app = TestApp::spawn().await;
    let Trio { ann, bo, .. } = trio(&app).await;
    for protocol in PROTOCOLS {
        let mut bo_ws = subscribed(&app, protocol, &bo.token).await;
        let mut ann_ws = subscribed(&app, protocol, &ann.token).await;
        until_live(&app, &ann, &bo.email, &mut [&mut bo_ws, &mut ann_ws]).await;

        let content = format!("hello over {}", protocol.name());
        let (sent, answered) = send_timed(&app, &ann, &bo.email, &content).await;
        delivers(&mut bo_ws, &sent, answered).await;
        assert_eq!(sent["content"], content.as_str());
        assert_eq!(sent["sender"]["id"], ann.id.as_str());
        assert_eq!(sent["recipientEmail"], bo.email.as_str());
        // The sender's own subscriptions hear it too.
        delivers(&mut ann_ws, &sent, answered).await;
    }
}

#[tokio::test]
async fn a_subscription_hears_nothing_of_other_people_s_messages() {
    let app = TestApp::spawn().await;
    let Trio { ann, bo, cy, .. } = trio(&app).await;
    let dee = app.sign_up("dee@example.io").await;
    let theirs = app.create_workspace(&dee, "Theirs").await;
    app.add_workspace_member(&dee, &theirs, &cy, "USER").await;

    let mut cy_sockets = [
        subscribed(&app, WsProtocol::TransportWs, &cy.token).await,
        subscribed(&app, WsProtocol::LegacyWs, &cy.token).await,
    ];
    let [first, second] = &mut cy_sockets;
    until_live(&app, &dee, &cy.email, &mut [first, second]).await;

    send(&app, &ann, &bo.email, "between Ann and Bo").await;
    let for_cy = send(&app, &dee, &cy.email, "for Cy").await;
    for ws in &mut cy_sockets {
        let received = next_received(ws).await;
        assert_eq!(
            received["id"], for_cy["id"],
            "{:?}: the first message Cy hears is hers: {received}",
            ws.protocol
        );
    }
}

#[tokio::test]
async fn logging_out_ends_that_session_s_subscriptions_only() {
    let app = TestApp::spawn().await;
    let Trio { ann, bo, .. } = trio(&app).await;
    for protocol in PROTOCOLS {
        let leaving = log_in(&app, &bo).await;
        let staying = log_in(&app, &bo).await;
        let mut leaving_ws = subscribed(&app, protocol, &leaving).await;
        let mut staying_ws = subscribed(&app, protocol, &staying).await;
        until_live(
            &app,
            &ann,
            &bo.email,
            &mut [&mut leaving_ws, &mut staying_ws],
        )
        .await;

        let out = app
            .graphql_as(Some(&leaving), "mutation { logOut }", json!({}))
            .await;
        assert_eq!(out.data()["logOut"], true);
        let ended = next_result(&mut leaving_ws).await;
        assert_eq!(
            ended["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{protocol:?}: {ended}"
        );
        let complete = leaving_ws
            .next_json()
            .await
            .unwrap_or_else(|| panic!("{protocol:?}: the socket closed"));
        assert_eq!(complete["type"], "complete", "{protocol:?}: {complete}");
        assert_eq!(complete["id"], "chat");

        let (sent, answered) = send_timed(&app, &ann, &bo.email, "still there?").await;
        delivers(&mut staying_ws, &sent, answered).await;
    }
}

/// A new session of `account`, made through `app`.
pub(crate) async fn log_in(app: &TestApp, account: &Account) -> String {
    let response = app
        .graphql(
            "mutation LogIn($input: LogInInput!) { logIn(input: $input) { token } }",
            json!({ "input": { "email": account.email, "password": tests::PASSWORD } }),
        )
        .await;
    str_at(&response.data()["logIn"]["token"]).to_owned()
}

#[tokio::test]
async fn on_postgres_a_message_reaches_subscribers_of_every_instance() {
    let app = TestApp::spawn().await;
    if !app.is_postgres() {
        eprintln!("skipped: instances share messages through PostgreSQL only");
        return;
    }
    let Trio { ann, bo, .. } = trio(&app).await;
    let other = app.another_instance(&app.chat_keys).await;
    // Both subscribed before anything is sent: an instance hands a message to its
    // subscribers when its listener hears of it, which may be after the sender's
    // request has returned.
    let mut bo_ws = subscribed(&app, WsProtocol::TransportWs, &bo.token).await;
    let mut ann_ws = subscribed(&other, WsProtocol::LegacyWs, &ann.token).await;
    until_live(&other, &ann, &bo.email, &mut [&mut bo_ws, &mut ann_ws]).await;

    // Written through the second instance, heard by a subscriber of the first...
    let (sent, answered) = send_timed(&other, &ann, &bo.email, "via the other one").await;
    delivers(&mut bo_ws, &sent, answered).await;
    assert_eq!(next_received(&mut ann_ws).await["id"], sent["id"]);
    // ...and the other way round.
    let (sent, answered) = send_timed(&app, &bo, &ann.email, "and back").await;
    delivers(&mut ann_ws, &sent, answered).await;
}
