//! One connection: hyper's HTTP/1.1 state machine, and a watchdog that
//! closes it when its client is idle or slow. For an idle or slow client,
//! an eviction or a shutdown, the watchdog asks hyper for a graceful
//! shutdown, which closes a kept-alive connection at once when no request is
//! in flight (a half-sent head included) and otherwise after the answer; a
//! connection that never had a request in flight is simply dropped. Only
//! the request timeout, and a close still pending an idle timeout later
//! (a client not reading its answer), drop a connection whose answer was
//! begun.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::{TowerToHyperService, TowerToHyperServiceFuture};
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tower_service::Service;

use super::BoxError;
use super::activity::{Activity, Closed, Timeouts, Watch};
use super::registry::Registered;

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
    let mut watch = Watch::new(timeouts);
    let (_, first_look) = watch.look(&activity);
    let sleep = tokio::time::sleep_until(first_look);
    tokio::pin!(sleep);
    let mut closing = false;
    loop {
        let close = tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    // A client that left, or sent what is not HTTP: nothing to act on.
                    tracing::debug!(target: "foxreach_webhooks::server", %error, "a connection ended with an error");
                }
                return;
            }
            () = sleep.as_mut() => {
                let (close, next_look) = watch.look(&activity);
                sleep.as_mut().reset(next_look);
                close
            }
            () = activity.evict_now.notified(), if !closing => activity.is_evicted().then_some(Closed::Evicted),
            // A dropped sender means the server is gone: stop as well.
            _ = shutdown.changed(), if !closing => Some(Closed::Shutdown),
        };
        let Some(why) = close else { continue };
        if let Some(label) = why.label() {
            crate::observe::connection_closed(label);
        }
        // hyper's graceful shutdown would wait for a half-sent first head to
        // be finished; with no answer begun, dropping loses nothing.
        if why.drops() || activity.has_answered_nothing() {
            return;
        }
        connection.as_mut().graceful_shutdown();
        sleep.as_mut().reset(watch.closing());
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
