//! The subscribers' side: one `graphql-transport-ws` connection per subscriber, each
//! subscribed to `messageReceived`, read by a task of its own that timestamps every
//! delivery the moment its frame is read.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::Event;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The subscription every subscriber holds.
const SUBSCRIPTION: &str = "subscription { messageReceived { id content createdAt } }";
/// The operation id of that subscription on each connection.
const OPERATION: &str = "1";
/// The most a connection may take from TCP connect to `connection_ack`.
const OPEN_WITHIN: Duration = Duration::from_secs(15);

/// Connects to `ws_url` as the holder of `token`, waits for `connection_ack` and
/// subscribes. The subscription is only known to be live once a message has come through
/// it: `graphql-transport-ws` does not acknowledge a `subscribe`.
pub async fn open(ws_url: &str, token: &str) -> Result<Socket> {
    tokio::time::timeout(OPEN_WITHIN, async {
        let mut request = ws_url.into_client_request()?;
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .context("WebSocket handshake")?;
        let init = json!({
            "type": "connection_init",
            "payload": { "authorization": format!("Bearer {token}") },
        });
        socket.send(Message::text(init.to_string())).await?;
        loop {
            let frame = socket
                .next()
                .await
                .context("the connection ended before connection_ack")??;
            match frame {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text)
                        .with_context(|| format!("a frame that is not JSON: {text}"))?;
                    match value["type"].as_str() {
                        Some("connection_ack") => break,
                        Some("ping") => {
                            let pong = json!({ "type": "pong" }).to_string();
                            socket.send(Message::text(pong)).await?;
                        }
                        _ => bail!("refused: {text}"),
                    }
                }
                Message::Close(frame) => bail!("closed before connection_ack: {frame:?}"),
                _ => {}
            }
        }
        let subscribe = json!({
            "id": OPERATION,
            "type": "subscribe",
            "payload": { "query": SUBSCRIPTION },
        });
        socket.send(Message::text(subscribe.to_string())).await?;
        Ok(socket)
    })
    .await
    .with_context(|| format!("no connection_ack within {OPEN_WITHIN:?}"))?
}

/// Reads subscriber `subscriber`'s connection until `stop` changes or the connection
/// ends: each delivery becomes an [`Event::Delivered`] stamped when its frame was read;
/// pings are answered; anything that ends the subscription is an [`Event::Ended`], any
/// other frame an [`Event::Odd`].
pub async fn receive(
    subscriber: usize,
    mut socket: Socket,
    events: mpsc::UnboundedSender<Event>,
    mut stop: watch::Receiver<bool>,
) {
    let ended = |why: String| Event::Ended { subscriber, why };
    loop {
        let frame = tokio::select! {
            _ = stop.changed() => break,
            frame = socket.next() => frame,
        };
        let at = Instant::now();
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                let _ = events.send(ended(format!("closed by the server: {frame:?}")));
                return;
            }
            // tungstenite answers WebSocket pings itself.
            Some(Ok(_)) => continue,
            Some(Err(err)) => {
                let _ = events.send(ended(format!("connection error: {err}")));
                return;
            }
            None => {
                let _ = events.send(ended("the connection ended".into()));
                return;
            }
        };
        let event = match serde_json::from_str::<Value>(&text) {
            Ok(value) => match (value["type"].as_str(), value["id"].as_str()) {
                (Some("next"), Some(OPERATION)) => delivered(subscriber, &value, at),
                (Some("ping"), _) => {
                    let pong = json!({ "type": "pong" }).to_string();
                    if let Err(err) = socket.send(Message::text(pong)).await {
                        Some(ended(format!("cannot answer a ping: {err}")))
                    } else {
                        None
                    }
                }
                (Some("pong" | "ka"), _) => None,
                (Some("error" | "complete"), _) => {
                    Some(ended(format!("the server ended the subscription: {text}")))
                }
                _ => Some(Event::Odd {
                    subscriber,
                    text: text.to_string(),
                }),
            },
            Err(_) => Some(Event::Odd {
                subscriber,
                text: text.to_string(),
            }),
        };
        if let Some(event) = event {
            let end = matches!(event, Event::Ended { .. });
            if events.send(event).is_err() || end {
                break;
            }
        }
    }
    // Polite, but bounded: the server is stopped right after in any case.
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
}

/// The event for a `next` frame: a delivery, or an odd frame when it carries errors
/// instead of a message.
fn delivered(subscriber: usize, value: &Value, at: Instant) -> Option<Event> {
    let message = &value["payload"]["data"]["messageReceived"];
    match (message["id"].as_str(), message["content"].as_str()) {
        (Some(id), Some(content)) => Some(Event::Delivered {
            subscriber,
            id: id.to_owned(),
            content: content.to_owned(),
            at,
        }),
        _ => Some(Event::Odd {
            subscriber,
            text: value.to_string(),
        }),
    }
}
