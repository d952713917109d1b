//! The server's connections: accepting them, at most `max_connections` open at once, the
//! time limits on each, and a graceful stop.
//!
//! Every accepted stream is wrapped in [`Guarded`], which holds the connection's permit
//! (a WebSocket upgraded from it keeps the permit, since the socket lives on in the same
//! stream) and times what the client owes the server:
//!
//! - a request head must be complete within `header_timeout` of the connection's start or
//!   of its first byte; past it the client gets `408` and the connection is closed;
//! - between requests, a keep-alive connection may stay silent for `idle_timeout`, then it
//!   is closed quietly;
//! - while the server has bytes for the client, the client must take some within
//!   `write_timeout` (a client that never reads is cut off, WebSockets included).
//!
//! What happens while a request runs (reading its body, running it) is timed by the request
//! timeout of [`crate::app::HttpLimits`]. The service of each connection tells [`Guarded`]
//! when a request starts and when its response has been handed over, so the stream knows
//! which of its time limits applies without reading HTTP itself.
//!
//! Past the connection cap, the server stops accepting: new connections wait in the
//! listen backlog until an open one closes, and the process never runs out of descriptors
//! (the cap is kept below the descriptor limit, which [`raise_descriptor_limit`] lifts at
//! start-up).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode};
use futures_util::task::AtomicWaker;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::Service as _;

use crate::Config;

mod guarded;
use self::guarded::Guarded;

/// Descriptors kept free of client connections: the database pool, the SQLite files, the
/// listener, the chat listener and logs.
const RESERVED_DESCRIPTORS: u64 = 256;

/// What a client whose request head came too slowly is told before the connection closes.
const REQUEST_TIMEOUT_RESPONSE: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

/// The connection limits, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionSettings {
    /// How long a request head may take, from the connection's start or its first byte.
    pub header_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// How long the client may leave the server's bytes unread.
    pub write_timeout: Duration,
    /// Most connections open at once (WebSockets included).
    pub max_connections: usize,
    /// How long a stop waits for open connections to finish: a request's time limit and
    /// the time to write its response.
    pub drain_timeout: Duration,
}

impl ConnectionSettings {
    /// The configured limits, the connection cap kept below the process's descriptor limit.
    pub fn new(config: &Config) -> Self {
        let configured = usize::try_from(config.max_connections).unwrap_or(usize::MAX);
        Self {
            header_timeout: Duration::from_secs(config.header_timeout_secs),
            idle_timeout: Duration::from_secs(config.idle_timeout_secs),
            write_timeout: Duration::from_secs(config.write_timeout_secs),
            max_connections: configured.min(descriptor_room()).max(1),
            drain_timeout: Duration::from_secs(
                config
                    .request_timeout_secs
                    .saturating_add(config.write_timeout_secs),
            ),
        }
    }
}

/// How many connections fit under the descriptor limit beside what the server itself keeps
/// open.
fn descriptor_room() -> usize {
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((soft, _)) => {
            usize::try_from(soft.saturating_sub(RESERVED_DESCRIPTORS).max(1)).unwrap_or(usize::MAX)
        }
        Err(_) => usize::MAX,
    }
}

/// Raises the soft descriptor limit to the hard one; returns the limit before and after.
pub fn raise_descriptor_limit() -> io::Result<(u64, u64)> {
    let (before, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
    let after = rlimit::increase_nofile_limit(hard)?;
    Ok((before, after))
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets
/// every connection finish its request in flight, and returns once they have closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: ConnectionSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let (stop, stopping) = watch::channel(());
    let mut http = hyper::server::conn::http1::Builder::new();
    // Heads are timed by `Guarded`, which also knows the idle time between requests.
    http.header_read_timeout(None);
    let mut shutdown = pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(&err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without TCP_NODELAY a push that follows another on the same socket waits ~40 ms
        // for the client's delayed ACK (Nagle): a subscriber would see every second message
        // late.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
        let progress = Arc::new(Progress::default());
        let io = TokioIo::new(Guarded::new(
            stream,
            permit,
            Arc::clone(&progress),
            settings,
        ));
        let service = ConnectionService {
            router: router.clone(),
            peer,
            progress,
        };
        let connection = http.serve_connection(io, service).with_upgrades();
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let mut connection = pin!(connection);
            let outcome = tokio::select! {
                outcome = connection.as_mut() => outcome,
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = outcome {
                tracing::debug!(error = %err, %peer, "connection closed on an error");
            }
            drop(stopping);
        });
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(());
    // A connection finishes its request in flight, then closes; one that can't within the
    // drain time (a client reading a response a byte at a time) is left to the process's
    // end rather than holding the stop up.
    if tokio::time::timeout(settings.drain_timeout, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            open = stop.receiver_count(),
            drain_secs = settings.drain_timeout.as_secs(),
            "connections still open after the drain time; stopping without them"
        );
    }
    Ok(())
}

/// After a failed `accept`: a connection that failed before it was accepted is nothing
/// to wait for; anything else (out of descriptors or memory) is logged and waited out
/// briefly rather than retried in a busy loop.
async fn accept_failed(err: &io::Error) {
    if matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "accept failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// What one connection's service tells its stream: requests started and responses handed
/// over, and whether the connection became a WebSocket.
#[derive(Default)]
struct Progress {
    started: AtomicU64,
    finished: AtomicU64,
    upgraded: AtomicBool,
    /// The connection's last read: woken when a request finishes, since hyper may not read
    /// again by itself, and an idle connection's time limit starts then.
    reader: AtomicWaker,
}

/// Counts a request as finished when dropped: with its response body once hyper has
/// sent it, or with the request's future when the client went away first.
struct Finished(Arc<Progress>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::Release);
        self.0.reader.wake();
    }
}

/// The router as one connection's hyper service: every request carries the peer's
/// address (for `ConnectInfo`) and reports its start and end to the stream.
#[derive(Clone)]
struct ConnectionService {
    router: Router,
    peer: SocketAddr,
    progress: Arc<Progress>,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Tracked>, Infallible>> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        self.progress.started.fetch_add(1, Ordering::Release);
        let finished = Finished(Arc::clone(&self.progress));
        let response = self.router.clone().call(request);
        Box::pin(async move {
            let response = match response.await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if response.status() == StatusCode::SWITCHING_PROTOCOLS {
                finished.0.upgraded.store(true, Ordering::Release);
            }
            Ok(response.map(|body| Tracked {
                body,
                _finished: finished,
            }))
        })
    }
}

/// A response body that counts its request as finished when hyper drops it.
struct Tracked {
    body: Body,
    _finished: Finished,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
