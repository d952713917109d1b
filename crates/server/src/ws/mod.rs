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
//! - never sends a close reason longer than a close frame holds (123 bytes);
//! - closes a socket whose `connection_init` would pass the instance's socket cap with
//!   4421, or its account's with 4420 (both may be retried later); a socket that has not
//!   sent `connection_init` holds no place (the init timeout and the connection cap bound
//!   those);
//! - runs queries and mutations under the HTTP request time limit (`TIMEOUT`), each with a
//!   request id in its log span and its `INTERNAL` errors ([`executor`]).
//!
//! A client that stops reading is cut off by the connection's write timeout
//! ([`crate::conn`]), which stays on the stream under the WebSocket.
//!
//! How: the socket is split. async-graphql reads through [`Inbound`], which inspects each
//! frame as async-graphql takes it, and writes through [`Outbound`], which sees each message
//! as async-graphql emits it. Between them they keep the set of running ids exactly in step
//! with async-graphql's own: it answers a `complete` before it reads the next frame, so a
//! `complete` followed at once by a `subscribe` with the same id is counted right. [`pump`]
//! owns the write half: it writes what [`Outbound`] hands it, adds keep-alives and puts
//! close frames in the protocol's terms.

use std::collections::HashSet;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_graphql::http::WebSocketProtocols;
use async_graphql::{Data, ErrorExtensions as _};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{Message, WebSocket};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_channel::{mpsc, oneshot};
use futures_util::StreamExt;
use futures_util::future::{self, Either};
use futures_util::stream::{SplitSink, SplitStream};
use graph::error::code;
use uuid::Uuid;

use crate::Config;
use crate::app::refusal;

mod executor;
mod inbound;
mod outbound;
mod sockets;

use executor::SocketExecutor;
use inbound::Inbound;
use outbound::{Outbound, pump};
pub use sockets::Sockets;
use sockets::{Full, Slot};

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
    /// The account has as many sockets open as it may: close one, or try again later.
    pub const TOO_MANY_SOCKETS_FOR_ACCOUNT: u16 = 4420;
    /// This instance has as many sockets open as it may: try again later.
    pub const TOO_MANY_SOCKETS: u16 = 4421;
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

/// The WebSocket settings, from the configuration, and the instance's open sockets.
#[derive(Clone)]
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
    /// How long a query or mutation sent over a socket may run.
    pub operation_timeout: Duration,
    /// Most sockets open on the instance.
    pub max_sockets: usize,
    /// Most sockets open for one account.
    pub max_sockets_per_user: usize,
    /// The sockets open now.
    pub sockets: Sockets,
    /// Where operations over a socket are counted.
    pub metrics: crate::metrics::Metrics,
}

impl WsSettings {
    pub fn new(config: &Config) -> Self {
        Self {
            init_timeout: Duration::from_secs(config.ws_init_timeout_secs),
            keepalive: Duration::from_secs(config.ws_keepalive_secs),
            max_subscriptions: config.ws_max_subscriptions,
            max_message_bytes: usize::try_from(config.max_body_bytes).unwrap_or(usize::MAX),
            operation_timeout: Duration::from_secs(config.request_timeout_secs),
            max_sockets: config.ws_max_sockets,
            max_sockets_per_user: config.ws_max_sockets_per_user,
            sockets: Sockets::default(),
            metrics: crate::metrics::Metrics::off(),
        }
    }
}

/// Upgrades to a GraphQL WebSocket and serves it, with `on_init` judging `connection_init`:
/// it answers the socket's data and the account it belongs to.
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
    R: Future<Output = async_graphql::Result<(Data, Uuid)>> + Send + 'static,
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
    R: Future<Output = async_graphql::Result<(Data, Uuid)>> + Send + 'static,
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
    let (sockets, max_sockets, max_per_user) = (
        settings.sockets.clone(),
        settings.max_sockets,
        settings.max_sockets_per_user,
    );
    let executor = SocketExecutor {
        api: schema,
        timeout: settings.operation_timeout,
        metrics: settings.metrics.clone(),
    };
    let graphql = GraphQLWebSocket::new_with_pair(outbound, inbound, executor, protocol)
        .on_connection_init(move |payload| {
            let init = on_init(payload);
            async move {
                let refused = match init.await {
                    Ok((data, user)) => {
                        let (message, refused) =
                            match sockets.admit(user, max_sockets, max_per_user) {
                                Ok(slot) => {
                                    refusals.lock().slot = Some(slot);
                                    return Ok(data);
                                }
                                Err(Full::Account) => (
                                    "this account has as many sockets open as it may",
                                    Refusal::TooManySockets,
                                ),
                                Err(Full::Instance) => (
                                    "the server has as many sockets open as it takes",
                                    Refusal::ServerFull,
                                ),
                            };
                        let err =
                            async_graphql::Error::new(message).extend_with(|_, extensions| {
                                extensions.set("code", refusal::TOO_MANY_SOCKETS);
                            });
                        (err, refused)
                    }
                    Err(err) => {
                        let refusal = Refusal::of(&err);
                        (err, refusal)
                    }
                };
                refusals.lock().refusal = Some(refused.1);
                Err(refused.0)
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
    /// The socket's place in the instance's counts, once `connection_init` was accepted.
    slot: Option<Slot>,
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
    /// The account has as many sockets open as it may.
    TooManySockets,
    /// The instance has as many sockets open as it takes.
    ServerFull,
}

impl Refusal {
    fn of(err: &async_graphql::Error) -> Self {
        let error_code = err.extensions.as_ref().and_then(|ext| ext.get("code"));
        let failed = [code::INTERNAL, code::DATABASE_UNAVAILABLE].map(async_graphql::Value::from);
        if error_code.is_some_and(|code| failed.contains(code)) {
            Self::Unavailable
        } else {
            Self::Forbidden
        }
    }

    fn close(self) -> (u16, &'static str) {
        match self {
            Self::Forbidden => (close::FORBIDDEN, "Forbidden"),
            Self::Unavailable => (close::TRY_AGAIN_LATER, "Try again later"),
            Self::TooManySockets => (
                close::TOO_MANY_SOCKETS_FOR_ACCOUNT,
                "Too many sockets open for this account",
            ),
            Self::ServerFull => (close::TOO_MANY_SOCKETS, "Too many sockets open"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_check_is_not_a_forbidden_init() {
        let internal = graph::Error::internal(std::io::Error::other("disk on fire"));
        assert_eq!(
            Refusal::of(&internal.into()),
            Refusal::Unavailable,
            "a server fault may be retried"
        );
        // What the session lookup gives when the pool has no connection to hand out.
        let outage = graph::Error::from(sea_orm::DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout,
        ));
        assert!(outage.is_database_unavailable());
        assert_eq!(
            Refusal::of(&outage.into()),
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
}
