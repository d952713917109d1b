//! GraphQL over WebSocket on `/graphql/ws`: async-graphql's protocol machine, with what a
//! public server needs around it and async-graphql 7.2 leaves out.
//!
//! async-graphql speaks both protocols (graphql-transport-ws and the legacy graphql-ws):
//! `connection_init` and its callback, operations by id, `complete`/`stop`, a `pong` for a
//! client's `ping`, 4429 on a second `connection_init`. Around it, this module
//!
//! - closes a socket that sends no `connection_init` in time with 4408;
//! - closes on a refused `connection_init` with 4403 (async-graphql closes graphql-transport-ws
//!   with 1002, and leaves graphql-ws without a close frame after its `connection_error`);
//! - closes graphql-transport-ws with 4409 on a `subscribe` whose id is still running
//!   (async-graphql would silently replace the running operation). graphql-ws has no such
//!   rule: there a `start` replaces its namesake, as subscriptions-transport-ws does;
//! - answers a `subscribe` past the per-socket limit with an `error` message
//!   (`TOO_MANY_SUBSCRIPTIONS`), leaving the socket and its other operations running;
//! - sends keep-alives (`ping` / `ka`) to an initialised socket, which nothing else would;
//! - closes on a frame over the size limit (1009), on a message that is not a protocol
//!   message (4400 where the protocol defines it) and on an operation before
//!   `connection_ack` (4401);
//! - never sends a close reason longer than a close frame holds (123 bytes).
//!
//! How: the socket is split. async-graphql reads through [`Inbound`], which inspects each
//! frame as async-graphql takes it, and writes through [`Outbound`], which sees each message
//! as async-graphql emits it. Between them they keep the set of running ids exactly in step
//! with async-graphql's own: it answers a `complete` before it reads the next frame, so a
//! `complete` followed at once by a `subscribe` with the same id is counted right. [`pump`]
//! owns the write half: it writes what [`Outbound`] hands it, adds keep-alives and puts
//! close frames in the protocol's terms.

use std::borrow::Cow;
use std::collections::HashSet;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::WebSocketProtocols;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_channel::{mpsc, oneshot};
use futures_util::future::{self, Either};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use graph::error::code;
use serde::Deserialize;
use tokio::time::{Instant, Interval, MissedTickBehavior, Sleep};

use crate::Config;
use crate::app::refusal;

/// The close codes this server sends.
pub mod close {
    /// The connection ended normally.
    pub const NORMAL: u16 = 1000;
    /// async-graphql's code for a refused `connection_init` and an unreadable message.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A frame over the size limit.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// async-graphql's code for an operation before `connection_ack`.
    pub const INTERNAL_ERROR: u16 = 1011;
    /// `connection_init` failed on our side (the database did not answer): try again.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// graphql-transport-ws: a message that is not a protocol message.
    pub const BAD_REQUEST: u16 = 4400;
    /// graphql-transport-ws: an operation before `connection_ack`.
    pub const UNAUTHORIZED: u16 = 4401;
    /// `connection_init` without a valid session.
    pub const FORBIDDEN: u16 = 4403;
    /// No `connection_init` in time.
    pub const INIT_TIMEOUT: u16 = 4408;
    /// graphql-transport-ws: a `subscribe` with the id of a running operation.
    pub const SUBSCRIBER_EXISTS: u16 = 4409;
}

/// The longest close reason: a close frame's payload is at most 125 bytes, two of them the
/// code.
pub const MAX_CLOSE_REASON: usize = 123;

/// Bytes a WebSocket reads at a time; longer frames still arrive whole.
const READ_BUFFER: usize = 8 * 1024;

/// Messages waiting for the write half; async-graphql waits when they are this many.
const OUTBOX: usize = 8;

/// How long a closed socket waits for the client's close frame before it hangs up.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

const CONNECTION_ACK: &str = r#"{"type":"connection_ack"}"#;

/// The WebSocket settings, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct WsSettings {
    /// How long a socket may go without `connection_init`.
    pub init_timeout: Duration,
    /// The time between two keep-alives to an initialised socket.
    pub keepalive: Duration,
    /// Most operations running at once on one socket.
    pub max_subscriptions: usize,
    /// Largest message (and frame) a client may send, in bytes: the `POST /graphql` body
    /// limit, since a `subscribe` carries the same request.
    pub max_message_bytes: usize,
}

impl WsSettings {
    pub fn new(config: &Config) -> Self {
        Self {
            init_timeout: Duration::from_secs(config.ws_init_timeout_secs),
            keepalive: Duration::from_secs(config.ws_keepalive_secs),
            max_subscriptions: config.ws_max_subscriptions,
            max_message_bytes: usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX),
        }
    }
}

/// Upgrades to a GraphQL WebSocket and serves it, with `on_init` judging `connection_init`.
///
/// The protocol is the first of the client's `Sec-WebSocket-Protocol` values that names one,
/// as async-graphql picks it, and the response names that same one (axum would answer with
/// the first in our list the client offers, which need not be the one spoken).
pub fn upgrade<F, R>(
    upgrade: WebSocketUpgrade,
    headers: &HeaderMap,
    protocol: GraphQLProtocol,
    schema: graph::Api,
    settings: WsSettings,
    on_init: F,
) -> Response
where
    F: FnOnce(serde_json::Value) -> R + Send + 'static,
    R: Future<Output = async_graphql::Result<Data>> + Send + 'static,
{
    let Some(dialect) = requested_protocol(headers) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    upgrade
        .protocols([dialect.sec_websocket_protocol()])
        // GraphQL frames are small; tungstenite's 128 KiB default read buffer, allocated
        // up front, made an idle subscriber cost ~200 KiB (bench/README.md, chat).
        .read_buffer_size(READ_BUFFER)
        .max_message_size(settings.max_message_bytes)
        .max_frame_size(settings.max_message_bytes)
        .on_upgrade(move |socket| serve(socket, schema, protocol, dialect, settings, on_init))
}

/// The protocol the client asks for: the first `Sec-WebSocket-Protocol` value naming one.
fn requested_protocol(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|name| name.trim().parse().ok())
}

async fn serve<F, R>(
    socket: WebSocket,
    schema: graph::Api,
    protocol: GraphQLProtocol,
    dialect: WebSocketProtocols,
    settings: WsSettings,
    on_init: F,
) where
    F: FnOnce(serde_json::Value) -> R + Send + 'static,
    R: Future<Output = async_graphql::Result<Data>> + Send + 'static,
{
    let shared = Shared::default();
    let (write, read) = socket.split();
    let (outbox, messages) = mpsc::channel(OUTBOX);
    let (hand_back, handed_back) = oneshot::channel();
    let inbound = Inbound {
        frames: Some(read),
        hand_back: Some(hand_back),
        replies: outbox.clone(),
        reply: None,
        init_deadline: Some(Box::pin(tokio::time::sleep(settings.init_timeout))),
        ending: false,
        dialect,
        max_operations: settings.max_subscriptions,
        shared: shared.clone(),
    };
    let outbound = Outbound {
        messages: outbox,
        shared: shared.clone(),
    };
    let refusals = shared.clone();
    let graphql = GraphQLWebSocket::new_with_pair(outbound, inbound, schema, protocol)
        .on_connection_init(move |payload| {
            let init = on_init(payload);
            async move {
                let outcome = init.await;
                if let Err(err) = &outcome {
                    refusals.lock().refusal = Some(Refusal::of(err));
                }
                outcome
            }
        })
        .serve();
    let write = {
        let graphql = pin!(graphql);
        let mut pump = pin!(pump(write, messages, dialect, settings.keepalive, shared));
        match future::select(graphql, pump.as_mut()).await {
            Either::Left(((), pump)) => pump.await,
            // The client is gone: async-graphql stops here.
            Either::Right((write, _)) => write,
        }
    };
    // async-graphql has ended and dropped [`Inbound`], which hands the read half back.
    if let Some(write) = write
        && let Ok(read) = handed_back.await
    {
        linger(write, read).await;
    }
}

/// After our close frame: reads (and drops) what the client still sends until its close
/// frame answers ours, for at most [`CLOSE_GRACE`], so the connection ends with the closing
/// handshake rather than a reset.
async fn linger(write: SplitSink<WebSocket, Message>, mut read: SplitStream<WebSocket>) {
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(_)) = read.next().await {}
    })
    .await;
    drop(write);
}

/// What [`Inbound`], [`Outbound`] and [`pump`] share.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Connection>>);

#[derive(Default)]
struct Connection {
    /// The ids of the operations async-graphql runs.
    running: HashSet<String>,
    /// Why `connection_init` was refused, once it was.
    refusal: Option<Refusal>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn refusal(&self) -> Option<Refusal> {
        self.lock().refusal
    }
}

/// Why `connection_init` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// No valid session: the client must sign in again.
    Forbidden,
    /// The check itself failed (the database): the client may try again.
    Unavailable,
}

impl Refusal {
    fn of(err: &async_graphql::Error) -> Self {
        let error_code = err.extensions.as_ref().and_then(|ext| ext.get("code"));
        if error_code == Some(&async_graphql::Value::from(code::INTERNAL)) {
            Self::Unavailable
        } else {
            Self::Forbidden
        }
    }

    fn close(self) -> (u16, &'static str) {
        match self {
            Self::Forbidden => (close::FORBIDDEN, "Forbidden"),
            Self::Unavailable => (close::TRY_AGAIN_LATER, "Try again later"),
        }
    }
}

/// The part of a client message this module reads.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
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

/// The read half as async-graphql reads it: frames pass through once inspected, and the
/// stream ends (ending async-graphql) after a close frame of ours.
struct Inbound {
    /// `None` only once handed back.
    frames: Option<SplitStream<WebSocket>>,
    /// Where the read half goes when async-graphql is done with it, for [`linger`].
    hand_back: Option<oneshot::Sender<SplitStream<WebSocket>>>,
    /// Answers made here, written in order with async-graphql's.
    replies: mpsc::Sender<Message>,
    /// An answer waiting for room in `replies`; nothing is read meanwhile.
    reply: Option<Message>,
    /// Until `connection_init` arrives.
    init_deadline: Option<Pin<Box<Sleep>>>,
    /// A close frame was (or is about to be) queued: the stream ends.
    ending: bool,
    dialect: WebSocketProtocols,
    max_operations: usize,
    shared: Shared,
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

/// The write half as async-graphql writes it: a `complete` it sends frees its id.
struct Outbound {
    messages: mpsc::Sender<Message>,
    shared: Shared,
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

/// Writes the messages of async-graphql and [`Inbound`] to the socket, with keep-alives
/// once the connection is acknowledged, and close frames in the protocol's terms. Returns
/// the write half when the connection closed in order, `None` when the client is gone.
async fn pump(
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

fn close_message(code: u16, reason: String) -> Message {
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
pub fn truncated(reason: &str) -> &str {
    let mut end = reason.len().min(MAX_CLOSE_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason.get(..end).unwrap_or_default()
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
    fn an_internal_failure_is_not_a_forbidden_init() {
        let internal = graph::Error::internal(std::io::Error::other("db down"));
        assert_eq!(
            Refusal::of(&internal.into()),
            Refusal::Unavailable,
            "an outage may be retried"
        );
        assert_eq!(
            Refusal::of(&graph::Error::Unauthenticated.into()),
            Refusal::Forbidden
        );
    }

    #[test]
    fn the_client_s_first_known_protocol_is_chosen() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            "chat, graphql-ws, graphql-transport-ws"
                .parse()
                .expect("a header value"),
        );
        assert_eq!(
            requested_protocol(&headers),
            Some(WebSocketProtocols::SubscriptionsTransportWS)
        );
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            "chat".parse().expect("a header value"),
        );
        assert_eq!(requested_protocol(&headers), None);
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
