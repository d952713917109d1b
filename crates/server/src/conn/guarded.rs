//! A client's TCP stream as the connection loop holds it: its place under the connection
//! cap and the time limits on its reads and writes.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};

use super::{ConnectionSettings, Progress, REQUEST_TIMEOUT_RESPONSE};

/// Where a connection is, as far as its time limits go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No byte of the next request yet: since the start (the head timeout runs) or since
    /// the last response (the idle timeout runs).
    Waiting,
    /// Part of a request head has come; the head timeout runs.
    Head,
    /// A request is being served; the request timeout governs.
    Busy,
    /// A WebSocket: its own protocol times its reads.
    Upgraded,
}

/// A client's TCP stream with the connection's permit and time limits.
pub(super) struct Guarded {
    stream: TcpStream,
    progress: Arc<Progress>,
    phase: Phase,
    /// The requests finished when the phase was last brought up to date.
    seen_finished: u64,
    /// When the current head or idle wait runs out.
    read_deadline: Pin<Box<Sleep>>,
    /// Set while a write waits for the client to read.
    write_stall: Option<Pin<Box<Sleep>>>,
    settings: ConnectionSettings,
    _permit: OwnedSemaphorePermit,
}

impl Guarded {
    pub(super) fn new(
        stream: TcpStream,
        permit: OwnedSemaphorePermit,
        progress: Arc<Progress>,
        settings: ConnectionSettings,
    ) -> Self {
        Self {
            stream,
            progress,
            phase: Phase::Waiting,
            seen_finished: 0,
            read_deadline: Box::pin(tokio::time::sleep(settings.header_timeout)),
            write_stall: None,
            settings,
            _permit: permit,
        }
    }

    /// Catches up with the service: a request started, or the last one finished.
    fn update_phase(&mut self) {
        if self.phase == Phase::Upgraded {
            return;
        }
        if self.progress.upgraded.load(Ordering::Acquire) {
            self.phase = Phase::Upgraded;
            return;
        }
        let started = self.progress.started.load(Ordering::Acquire);
        let finished = self.progress.finished.load(Ordering::Acquire);
        if started != finished {
            self.phase = Phase::Busy;
        } else if finished != self.seen_finished {
            // A request finished since the last read (it may have needed no read at all).
            self.phase = Phase::Waiting;
            self.restart_read_deadline(self.settings.idle_timeout);
        }
        self.seen_finished = finished;
    }

    fn restart_read_deadline(&mut self, after: Duration) {
        self.read_deadline.as_mut().reset(Instant::now() + after);
    }

    /// The outcome of a write that found the client's receive window full: pending until
    /// the write timeout, then an error that closes the connection.
    fn stalled<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let timeout = self.settings.write_timeout;
        let stall = self
            .write_stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(stall.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client read nothing within the write timeout",
        )))
    }

    fn wrote<T>(
        &mut self,
        outcome: Poll<io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<T>> {
        match outcome {
            Poll::Pending => self.stalled(cx),
            ready => {
                self.write_stall = None;
                ready
            }
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.phase != Phase::Upgraded {
            // Before the phase is read, so a request that finishes after it wakes this read.
            this.progress.reader.register(cx.waker());
        }
        this.update_phase();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if this.phase == Phase::Waiting && buf.filled().len() > before {
                    this.phase = Phase::Head;
                    this.restart_read_deadline(this.settings.header_timeout);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => {
                let timed = matches!(this.phase, Phase::Waiting | Phase::Head);
                if !timed || this.read_deadline.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                if this.phase == Phase::Waiting {
                    // Nothing started: end quietly, as if the client had closed.
                    return Poll::Ready(Ok(()));
                }
                // Best effort: a client that can't take these few bytes now gets none, and
                // one whose last response is still being written gets none either (the
                // 408 would land inside it).
                if this.write_stall.is_none() {
                    let _ = this.stream.try_write(REQUEST_TIMEOUT_RESPONSE);
                }
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the request head did not arrive within the header timeout",
                )))
            }
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.stream).poll_write(cx, data);
        this.wrote(outcome, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.stream).poll_write_vectored(cx, data);
        this.wrote(outcome, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.stream).poll_flush(cx);
        this.wrote(outcome, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.stream).poll_shutdown(cx);
        this.wrote(outcome, cx)
    }
}
