//! One connection: hyper's HTTP/1.1 state machine, and a watchdog that
//! closes it when its client is idle or slow. The watchdog only ever asks
//! hyper for a graceful shutdown, which closes a connection at once when no
//! request is in flight (a half-sent head included) and otherwise after the
//! answer: a deadline never cuts an answer short.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::{TowerToHyperService, TowerToHyperServiceFuture};
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tower_service::Service;

use super::BoxError;
use super::registry::Registered;

/// The two waits a client may make the connection do.
#[derive(Clone, Copy, Debug)]
pub(super) struct Timeouts {
    pub(super) header_read: Duration,
    pub(super) idle: Duration,
}

/// What the watchdog knows of a connection, written by its IO (bytes
/// arriving) and its service (requests starting and ending). Times are
/// milliseconds since the server's `epoch`.
#[derive(Debug)]
pub(super) struct Activity {
    epoch: Instant,
    /// Requests whose answer is not ready yet (at most one, in HTTP/1.1).
    in_flight: AtomicU32,
    /// When the connection began to wait for its next request: accepted,
    /// or its last answer ready.
    waiting_since: AtomicU64,
    /// When the first byte of the awaited request arrived, plus one; 0
    /// while none has.
    head_started: AtomicU64,
    /// Whether a request was answered: the wait for the next one is then
    /// the idle timeout, not the header timeout.
    served: AtomicBool,
    /// Closed to make room for a new connection.
    evicted: AtomicBool,
    /// Wakes the watchdog when any of the above changes what it waits for.
    changed: Notify,
}

impl Activity {
    pub(super) fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            in_flight: AtomicU32::new(0),
            waiting_since: AtomicU64::new(millis_since(epoch)),
            head_started: AtomicU64::new(0),
            served: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            changed: Notify::new(),
        }
    }

    /// Whether no request is in flight, so that closing loses no answer.
    pub(super) fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Since when the connection waits (ms since the epoch).
    pub(super) fn waiting_since(&self) -> u64 {
        self.waiting_since.load(Ordering::Relaxed)
    }

    /// Asks the connection to close (once its answer in flight, if any, is written).
    pub(super) fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        self.changed.notify_one();
    }

    /// Whether no request ever reached the service: closing then cuts no answer.
    fn has_answered_nothing(&self) -> bool {
        !self.served.load(Ordering::Relaxed) && self.is_idle()
    }

    fn on_read(&self) {
        // Two loads per read; a clock and a wake only for the first byte of a head.
        if self.head_started.load(Ordering::Relaxed) == 0 && self.is_idle() {
            self.head_started.store(millis_since(self.epoch) + 1, Ordering::Relaxed);
            self.changed.notify_one();
        }
    }

    fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    fn end(&self) {
        self.waiting_since.store(millis_since(self.epoch), Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
        self.served.store(true, Ordering::Relaxed);
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.changed.notify_one();
        }
    }

    /// When the connection must be closed, if nothing changes meanwhile, and why;
    /// `None` while a request is in flight.
    fn deadline(&self, timeouts: Timeouts) -> Option<(Instant, Closed)> {
        if !self.is_idle() {
            return None;
        }
        let at = |millis: u64, wait: Duration| self.epoch + Duration::from_millis(millis) + wait;
        let head_started = self.head_started.load(Ordering::Relaxed);
        Some(if !self.served.load(Ordering::Relaxed) {
            // The first request's head is due a header timeout after accept.
            (at(self.waiting_since(), timeouts.header_read), Closed::HeaderTimeout)
        } else if head_started > 0 {
            (at(head_started - 1, timeouts.header_read), Closed::HeaderTimeout)
        } else {
            (at(self.waiting_since(), timeouts.idle), Closed::Idle)
        })
    }
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Why the server closed a connection itself (the `reason` label of
/// `foxreach_webhooks_connections_closed_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Closed {
    HeaderTimeout,
    Idle,
    Evicted,
    /// The server is shutting down (not counted: every connection closes).
    Shutdown,
}

impl Closed {
    fn label(self) -> Option<&'static str> {
        match self {
            Self::HeaderTimeout => Some("header_timeout"),
            Self::Idle => Some("idle"),
            Self::Evicted => Some("evicted"),
            Self::Shutdown => None,
        }
    }
}

/// Serves HTTP/1.1 on `stream` until the client leaves, a deadline passes,
/// or `shutdown` says so; then gives up its place in the registry.
pub(super) async fn serve<S, B>(
    stream: TcpStream,
    service: S,
    registered: Registered,
    timeouts: Timeouts,
    mut shutdown: watch::Receiver<bool>,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let activity = registered.activity.clone();
    let io = TokioIo::new(Watched { stream, activity: activity.clone() });
    let service = Tracked { inner: TowerToHyperService::new(service), activity: activity.clone() };
    // The watchdog below keeps hyper's own header timer, which would also
    // cut kept-alive connections at the header timeout, switched off.
    let connection = hyper::server::conn::http1::Builder::new().header_read_timeout(None).serve_connection(io, service);
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        let deadline = if closing { None } else { activity.deadline(timeouts) };
        let sleep = async {
            match deadline {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let close = tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    // A client that left, or sent what is not HTTP: nothing to act on.
                    tracing::debug!(target: "foxreach_webhooks::server", %error, "a connection ended with an error");
                }
                return;
            }
            () = sleep => match activity.deadline(timeouts) {
                // Re-read: a request may have begun since the deadline was computed.
                Some((at, why)) if at <= Instant::now() => Some(why),
                _ => None,
            },
            () = activity.changed.notified(), if !closing => {
                activity.evicted.load(Ordering::Acquire).then_some(Closed::Evicted)
            }
            // A dropped sender means the server is gone: stop as well.
            _ = shutdown.changed(), if !closing => Some(Closed::Shutdown),
        };
        let Some(why) = close else { continue };
        if let Some(label) = why.label() {
            crate::observe::connection_closed(label);
        }
        if activity.has_answered_nothing() {
            // hyper's graceful shutdown would wait for a half-sent first head
            // to be finished; with no answer begun, dropping loses nothing.
            return;
        }
        connection.as_mut().graceful_shutdown();
        closing = true;
    }
}

/// The connection's socket, telling [`Activity`] when bytes arrive.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.on_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The application's service, telling [`Activity`] when a request is in
/// flight: from its head until its answer is ready.
struct Tracked<S> {
    inner: TowerToHyperService<S>,
    activity: Arc<Activity>,
}

impl<S> hyper::service::Service<Request<Incoming>> for Tracked<S>
where
    S: Service<Request<Incoming>> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TrackedFuture<S>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.activity.begin();
        TrackedFuture { inner: self.inner.call(request), _in_flight: InFlight(self.activity.clone()) }
    }
}

pin_project! {
    /// The answer's future, holding the request in flight until it is dropped.
    struct TrackedFuture<S>
    where
        S: Service<Request<Incoming>>,
    {
        #[pin]
        inner: TowerToHyperServiceFuture<S, Request<Incoming>>,
        _in_flight: InFlight,
    }
}

impl<S> Future for TrackedFuture<S>
where
    S: Service<Request<Incoming>>,
{
    type Output = Result<S::Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx)
    }
}

/// Ends the request in flight when dropped: hyper drops the answer's future
/// once it is ready, or when the connection goes away.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end();
    }
}
