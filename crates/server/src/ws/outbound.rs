//! The write half of a GraphQL WebSocket: what async-graphql writes, and the pump that
//! writes it to the socket.

use std::borrow::Cow;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_graphql::http::WebSocketProtocols;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_channel::mpsc;
use futures_util::future;
use futures_util::stream::SplitSink;
use futures_util::{Sink, SinkExt, StreamExt};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::inbound::Envelope;
use super::{CONNECTION_ACK, MAX_CLOSE_REASON, Refusal, Shared, close};

/// The write half as async-graphql writes it: a `complete` it sends frees its id.
pub(super) struct Outbound {
    pub(super) messages: mpsc::Sender<Message>,
    pub(super) shared: Shared,
}

impl Sink<Message> for Outbound {
    type Error = mpsc::SendError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().messages.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Self::Error> {
        let this = self.get_mut();
        if let Message::Text(text) = &message
            && let Some(id) = completed(text.as_str())
        {
            this.shared.lock().running.remove(id.as_ref());
        }
        this.messages.start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().messages.close_channel();
        Poll::Ready(Ok(()))
    }
}

/// The id of a `complete` message async-graphql sends (it writes `type` first).
fn completed(text: &str) -> Option<Cow<'_, str>> {
    if !text.starts_with(r#"{"type":"complete""#) {
        return None;
    }
    serde_json::from_str::<Envelope<'_>>(text).ok()?.id
}

/// Writes the messages of async-graphql and [`super::Inbound`] to the socket, with keep-alives
/// once the connection is acknowledged, and close frames in the protocol's terms. Returns
/// the write half when the connection closed in order, `None` when the client is gone.
pub(super) async fn pump(
    mut socket: SplitSink<WebSocket, Message>,
    mut messages: mpsc::Receiver<Message>,
    dialect: WebSocketProtocols,
    keepalive: Duration,
    shared: Shared,
) -> Option<SplitSink<WebSocket, Message>> {
    let mut keepalives: Option<Interval> = None;
    let mut closed = false;
    loop {
        let message = tokio::select! {
            message = messages.next() => match message {
                Some(message) => message,
                None => break,
            },
            () = tick(&mut keepalives), if !closed => keepalive_message(dialect),
        };
        if closed {
            // Nothing follows a close frame; async-graphql is about to end.
            continue;
        }
        let message = match message {
            Message::Close(frame) => {
                closed = true;
                Message::Close(Some(outgoing_close(dialect, frame, shared.refusal())))
            }
            Message::Text(text) if text.as_str() == CONNECTION_ACK => {
                let mut every = tokio::time::interval_at(Instant::now() + keepalive, keepalive);
                every.set_missed_tick_behavior(MissedTickBehavior::Delay);
                keepalives = Some(every);
                Message::Text(text)
            }
            other => other,
        };
        if socket.send(message).await.is_err() {
            return None;
        }
    }
    if !closed {
        // async-graphql ended without a close frame: the client closed or left, sent
        // `connection_terminate`, or (graphql-ws) was refused after `connection_error`.
        let (code, reason) = shared.refusal().map_or((close::NORMAL, ""), Refusal::close);
        // Fails when the client closed first; its close frame was answered already.
        let _ = socket.send(close_message(code, reason.into())).await;
    }
    Some(socket)
}

/// Waits for the next keep-alive; never, before the connection is acknowledged.
async fn tick(keepalives: &mut Option<Interval>) {
    match keepalives {
        Some(every) => {
            every.tick().await;
        }
        None => future::pending().await,
    }
}

fn keepalive_message(dialect: WebSocketProtocols) -> Message {
    Message::Text(Utf8Bytes::from_static(match dialect {
        WebSocketProtocols::GraphQLWS => r#"{"type":"ping"}"#,
        WebSocketProtocols::SubscriptionsTransportWS => r#"{"type":"ka"}"#,
    }))
}

/// A close frame of async-graphql's or ours as the client gets it: in the codes the
/// protocol defines, with its reason cut to [`MAX_CLOSE_REASON`].
fn outgoing_close(
    dialect: WebSocketProtocols,
    frame: Option<CloseFrame>,
    refusal: Option<Refusal>,
) -> CloseFrame {
    let Some(CloseFrame { code, reason }) = frame else {
        return close_frame(close::NORMAL, String::new());
    };
    let transport_ws = dialect == WebSocketProtocols::GraphQLWS;
    match (code, refusal) {
        (close::PROTOCOL_ERROR, Some(refusal)) => {
            let (code, reason) = refusal.close();
            close_frame(code, reason.into())
        }
        (close::PROTOCOL_ERROR, None) if transport_ws => {
            close_frame(close::BAD_REQUEST, reason.as_str().into())
        }
        (close::INTERNAL_ERROR, _) if transport_ws => {
            close_frame(close::UNAUTHORIZED, "Unauthorized".into())
        }
        (code, _) => close_frame(code, reason.as_str().into()),
    }
}

pub(super) fn close_message(code: u16, reason: String) -> Message {
    Message::Close(Some(close_frame(code, reason)))
}

fn close_frame(code: u16, mut reason: String) -> CloseFrame {
    let end = truncated(&reason).len();
    reason.truncate(end);
    CloseFrame {
        code,
        reason: reason.into(),
    }
}

/// `reason` cut to at most [`MAX_CLOSE_REASON`] bytes, on a character boundary.
fn truncated(reason: &str) -> &str {
    let mut end = reason.len().min(MAX_CLOSE_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_reason_is_cut_on_a_character_boundary() {
        assert_eq!(truncated("Forbidden"), "Forbidden");
        let ascii = "a".repeat(200);
        assert_eq!(truncated(&ascii).len(), MAX_CLOSE_REASON);
        // 'é' is two bytes: byte 123 falls inside the 61st.
        let accents = format!("xx{}", "é".repeat(100));
        assert_eq!(truncated(&accents).len(), 122);
        assert!(accents.starts_with(truncated(&accents)));
    }

    #[test]
    fn async_graphql_s_close_codes_become_the_protocol_s() {
        let transport = WebSocketProtocols::GraphQLWS;
        let legacy = WebSocketProtocols::SubscriptionsTransportWS;
        let frame = |code, reason: &str| {
            Some(CloseFrame {
                code,
                reason: reason.to_owned().into(),
            })
        };
        let code_of = |dialect, code, refusal| {
            let frame = outgoing_close(dialect, frame(code, "why"), refusal);
            (frame.code, frame.reason.as_str().to_owned())
        };
        let refused = Some(Refusal::Forbidden);
        assert_eq!(
            code_of(transport, close::PROTOCOL_ERROR, refused),
            (close::FORBIDDEN, "Forbidden".into())
        );
        assert_eq!(
            code_of(transport, close::PROTOCOL_ERROR, Some(Refusal::Unavailable)),
            (close::TRY_AGAIN_LATER, "Try again later".into())
        );
        assert_eq!(
            code_of(transport, close::PROTOCOL_ERROR, None),
            (close::BAD_REQUEST, "why".into())
        );
        assert_eq!(
            code_of(legacy, close::PROTOCOL_ERROR, None),
            (close::PROTOCOL_ERROR, "why".into())
        );
        assert_eq!(
            code_of(transport, close::INTERNAL_ERROR, None),
            (close::UNAUTHORIZED, "Unauthorized".into())
        );
        assert_eq!(code_of(transport, 4429, None), (4429, "why".into()));
        let long = outgoing_close(transport, frame(4429, &"z".repeat(300)), None);
        assert_eq!(long.reason.len(), MAX_CLOSE_REASON);
    }

    #[test]
    fn only_a_complete_message_frees_an_id() {
        assert_eq!(
            completed(r#"{"type":"complete","id":"7"}"#).as_deref(),
            Some("7")
        );
        assert_eq!(completed(r#"{"type":"next","id":"7","payload":{}}"#), None);
    }
}
