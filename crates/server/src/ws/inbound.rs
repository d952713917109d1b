//! The read half of a GraphQL WebSocket, as async-graphql reads it.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use async_graphql::http::WebSocketProtocols;
use axum::extract::ws::{Message, WebSocket};
use futures_channel::{mpsc, oneshot};
use futures_util::stream::SplitStream;
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use tokio::time::Sleep;

use super::outbound::close_message;
use super::{Shared, close};
use crate::app::refusal;

/// The part of a client message [`Inbound`] and [`super::outbound`] read.
#[derive(Deserialize)]
pub(super) struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    pub(super) id: Option<Cow<'a, str>>,
}

/// What to do with a client frame.
enum Verdict {
    /// Hand it to async-graphql.
    Pass,
    /// Drop it and answer with this message.
    Reply(Message),
    /// Drop it and close the socket.
    Close(u16, String),
}

/// The longest operation id a client may choose.
const MAX_ID_BYTES: usize = 128;

/// The read half as async-graphql reads it: frames pass through once inspected, and the
/// stream ends (ending async-graphql) after a close frame of ours.
pub(super) struct Inbound {
    /// `None` only once handed back.
    pub(super) frames: Option<SplitStream<WebSocket>>,
    /// Where the read half goes when async-graphql is done with it, for [`super::linger`].
    pub(super) hand_back: Option<oneshot::Sender<SplitStream<WebSocket>>>,
    /// Answers made here, written in order with async-graphql's.
    pub(super) replies: mpsc::Sender<Message>,
    /// An answer waiting for room in `replies`; nothing is read meanwhile.
    pub(super) reply: Option<Message>,
    /// Until `connection_init` arrives.
    pub(super) init_deadline: Option<Pin<Box<Sleep>>>,
    /// A close frame was (or is about to be) queued: the stream ends.
    pub(super) ending: bool,
    pub(super) dialect: WebSocketProtocols,
    pub(super) max_operations: usize,
    pub(super) shared: Shared,
}

impl Inbound {
    fn inspect(&mut self, bytes: &[u8]) -> Verdict {
        let Ok(envelope) = serde_json::from_slice::<Envelope<'_>>(bytes) else {
            // Nothing passes that could not be inspected.
            let code = match self.dialect {
                WebSocketProtocols::GraphQLWS => close::BAD_REQUEST,
                WebSocketProtocols::SubscriptionsTransportWS => close::PROTOCOL_ERROR,
            };
            return Verdict::Close(code, "Invalid message received".into());
        };
        match (envelope.kind.as_ref(), envelope.id) {
            ("connection_init", _) => {
                self.init_deadline = None;
                Verdict::Pass
            }
            // An id is kept while its operation runs (here and in async-graphql): a long
            // one would make each of a socket's operations cost up to a whole message.
            ("subscribe" | "start", Some(id)) if id.len() > MAX_ID_BYTES => {
                let code = match self.dialect {
                    WebSocketProtocols::GraphQLWS => close::BAD_REQUEST,
                    WebSocketProtocols::SubscriptionsTransportWS => close::PROTOCOL_ERROR,
                };
                Verdict::Close(
                    code,
                    format!("Operation ids are at most {MAX_ID_BYTES} bytes"),
                )
            }
            // async-graphql takes either name in either protocol.
            ("subscribe" | "start", Some(id)) => {
                let mut connection = self.shared.lock();
                if connection.running.contains(id.as_ref()) {
                    match self.dialect {
                        WebSocketProtocols::GraphQLWS => Verdict::Close(
                            close::SUBSCRIBER_EXISTS,
                            format!("Subscriber for {id} already exists"),
                        ),
                        WebSocketProtocols::SubscriptionsTransportWS => Verdict::Pass,
                    }
                } else if connection.running.len() >= self.max_operations {
                    Verdict::Reply(too_many_operations(self.dialect, &id, self.max_operations))
                } else {
                    connection.running.insert(id.into_owned());
                    Verdict::Pass
                }
            }
            ("complete" | "stop", Some(id)) => {
                self.shared.lock().running.remove(id.as_ref());
                Verdict::Pass
            }
            _ => Verdict::Pass,
        }
    }

    fn close(&mut self, code: u16, reason: String) {
        self.reply = Some(close_message(code, reason));
        self.ending = true;
    }
}

impl Stream for Inbound {
    type Item = Result<Message, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(reply) = this.reply.take() {
                match this.replies.poll_ready(cx) {
                    Poll::Ready(Ok(())) => {
                        if this.replies.start_send(reply).is_err() {
                            return Poll::Ready(None);
                        }
                    }
                    // The write half is gone, and the client with it.
                    Poll::Ready(Err(_)) => return Poll::Ready(None),
                    Poll::Pending => {
                        this.reply = Some(reply);
                        return Poll::Pending;
                    }
                }
            }
            if this.ending {
                return Poll::Ready(None);
            }
            if let Some(deadline) = this.init_deadline.as_mut()
                && deadline.as_mut().poll(cx).is_ready()
            {
                this.init_deadline = None;
                this.close(
                    close::INIT_TIMEOUT,
                    "Connection initialisation timeout".into(),
                );
                continue;
            }
            let Some(frames) = this.frames.as_mut() else {
                return Poll::Ready(None);
            };
            let frame = match ready!(frames.poll_next_unpin(cx)) {
                Some(Ok(frame)) => frame,
                Some(Err(err)) if is_too_big(&err) => {
                    this.close(close::MESSAGE_TOO_BIG, "Message too big".into());
                    continue;
                }
                other => return Poll::Ready(other),
            };
            let verdict = match &frame {
                Message::Text(text) => this.inspect(text.as_bytes()),
                Message::Binary(bytes) => this.inspect(bytes),
                Message::Ping(_) | Message::Pong(_) | Message::Close(_) => Verdict::Pass,
            };
            match verdict {
                Verdict::Pass => return Poll::Ready(Some(Ok(frame))),
                Verdict::Reply(message) => this.reply = Some(message),
                Verdict::Close(code, reason) => this.close(code, reason),
            }
        }
    }
}

impl Drop for Inbound {
    fn drop(&mut self) {
        if let (Some(frames), Some(hand_back)) = (self.frames.take(), self.hand_back.take()) {
            let _ = hand_back.send(frames);
        }
    }
}

/// Whether a read failed on a frame or message over the size limit.
fn is_too_big(err: &axum::Error) -> bool {
    std::error::Error::source(err)
        .and_then(|source| source.downcast_ref::<tungstenite::Error>())
        .is_some_and(|err| matches!(err, tungstenite::Error::Capacity(_)))
}

/// The `error` answering a `subscribe` past the limit. graphql-transport-ws carries a list
/// of GraphQL errors, graphql-ws one error.
fn too_many_operations(dialect: WebSocketProtocols, id: &str, max: usize) -> Message {
    let error = serde_json::json!({
        "message": format!(
            "at most {max} operations may run on one socket; complete one before starting another"
        ),
        "extensions": { "code": refusal::TOO_MANY_SUBSCRIPTIONS },
    });
    let payload = match dialect {
        WebSocketProtocols::GraphQLWS => serde_json::Value::Array(vec![error]),
        WebSocketProtocols::SubscriptionsTransportWS => error,
    };
    let message = serde_json::json!({ "type": "error", "id": id, "payload": payload });
    Message::Text(message.to_string().into())
}
