//! A GraphQL-over-WebSocket client for tests, speaking either protocol.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::error::Elapsed;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for a message it expects before failing.
const RECEIVE_DEADLINE: Duration = Duration::from_secs(5);

/// The two GraphQL WebSocket sub-protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsProtocol {
    /// `graphql-transport-ws` (the graphql-ws library).
    TransportWs,
    /// `graphql-ws` (the legacy subscriptions-transport-ws library).
    LegacyWs,
}

impl WsProtocol {
    /// The `Sec-WebSocket-Protocol` value.
    pub fn name(self) -> &'static str {
        match self {
            Self::TransportWs => "graphql-transport-ws",
            Self::LegacyWs => "graphql-ws",
        }
    }
}

/// What the server said after `connection_init`.
#[derive(Debug)]
pub enum InitOutcome {
    /// `connection_ack`.
    Ack,
    /// Anything else: an error message or a close frame, as JSON or as text.
    Refused(String),
}

/// An open GraphQL WebSocket.
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub protocol: WsProtocol,
}

impl WsClient {
    /// Connects to `url` asking for `protocol`.
    pub async fn connect(url: &str, protocol: WsProtocol) -> Self {
        let client = Self::connect_offering(url, protocol.name()).await;
        assert_eq!(
            client.protocol, protocol,
            "server picks the protocol asked for"
        );
        client
    }

    /// Connects to `url` offering `offered` as `Sec-WebSocket-Protocol` (e.g.
    /// `"graphql-ws, graphql-transport-ws"`), speaking the protocol the server picks.
    pub async fn connect_offering(url: &str, offered: &str) -> Self {
        let mut request = url
            .into_client_request()
            .unwrap_or_else(|err| panic!("websocket request for {url}: {err}"));
        let offered = HeaderValue::from_str(offered)
            .unwrap_or_else(|err| panic!("protocol header {offered}: {err}"));
        request
            .headers_mut()
            .insert("sec-websocket-protocol", offered);
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .unwrap_or_else(|err| panic!("connect {url}: {err}"));
        let chosen = response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|value| value.to_str().ok());
        let protocol = match chosen {
            Some("graphql-transport-ws") => WsProtocol::TransportWs,
            Some("graphql-ws") => WsProtocol::LegacyWs,
            other => panic!("the server picked no GraphQL protocol: {other:?}"),
        };
        Self { socket, protocol }
    }

    /// Sends one JSON message.
    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .unwrap_or_else(|err| panic!("websocket send: {err}"));
    }

    /// Sends one text frame as it is, valid JSON or not.
    pub async fn send_text(&mut self, text: String) {
        self.socket
            .send(Message::text(text))
            .await
            .unwrap_or_else(|err| panic!("websocket send: {err}"));
    }

    /// Sends `connection_init` with `payload` and reports the server's answer.
    pub async fn init(&mut self, payload: Value) -> InitOutcome {
        self.send(serde_json::json!({ "type": "connection_init", "payload": payload }))
            .await;
        loop {
            match self.next_message().await {
                Some(Message::Text(text)) => {
                    let value: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|err| panic!("websocket sent non-JSON {text}: {err}"));
                    match value["type"].as_str() {
                        Some("connection_ack") => return InitOutcome::Ack,
                        // The legacy protocol may send keep-alives right after the ack.
                        Some("ka") => continue,
                        _ => return InitOutcome::Refused(value.to_string()),
                    }
                }
                Some(Message::Close(frame)) => {
                    return InitOutcome::Refused(format!("closed: {frame:?}"));
                }
                Some(Message::Ping(_) | Message::Pong(_)) => continue,
                Some(other) => return InitOutcome::Refused(format!("{other:?}")),
                None => return InitOutcome::Refused("connection ended".into()),
            }
        }
    }

    /// Starts operation `id` running `query`: `subscribe` in graphql-transport-ws, `start`
    /// in the legacy protocol. Results come as `next` or `data` messages, then `complete`.
    pub async fn subscribe(&mut self, id: &str, query: &str) {
        let kind = match self.protocol {
            WsProtocol::TransportWs => "subscribe",
            WsProtocol::LegacyWs => "start",
        };
        self.send(serde_json::json!({ "id": id, "type": kind, "payload": { "query": query } }))
            .await;
    }

    /// Like [`WsClient::next_json`], but waits at most `within` (under the 5 s deadline):
    /// `Err` when nothing came in that time, for a test that waits for one of several
    /// things to happen. The socket stays usable.
    pub async fn next_json_within(&mut self, within: Duration) -> Result<Option<Value>, Elapsed> {
        tokio::time::timeout(within, self.next_json()).await
    }

    /// The next JSON message, skipping keep-alives; `None` once the connection closed.
    pub async fn next_json(&mut self) -> Option<Value> {
        loop {
            match self.next_message().await? {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|err| panic!("websocket sent non-JSON {text}: {err}"));
                    if value["type"] == "ka" || value["type"] == "ping" {
                        continue;
                    }
                    return Some(value);
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The next JSON message, keep-alives (`ping`, `ka`) included; `None` once the
    /// connection closed.
    pub async fn next_json_or_keepalive(&mut self) -> Option<Value> {
        loop {
            match self.next_message().await? {
                Message::Text(text) => {
                    return Some(
                        serde_json::from_str(&text)
                            .unwrap_or_else(|err| panic!("websocket sent non-JSON {text}: {err}")),
                    );
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The code and reason of the server's close frame, passing over any message before
    /// it; `None` when the connection ended without one.
    pub async fn next_close(&mut self) -> Option<(u16, String)> {
        loop {
            match self.next_message().await? {
                Message::Close(Some(frame)) => {
                    return Some((u16::from(frame.code), frame.reason.to_string()));
                }
                Message::Close(None) => return None,
                _ => continue,
            }
        }
    }

    async fn next_message(&mut self) -> Option<Message> {
        match tokio::time::timeout(RECEIVE_DEADLINE, self.socket.next()).await {
            Ok(Some(Ok(message))) => Some(message),
            Ok(Some(Err(_)) | None) => None,
            Err(_) => panic!("no websocket message within {RECEIVE_DEADLINE:?}"),
        }
    }
}
