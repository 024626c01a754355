//! Serving a receiver so that idle and slow clients cannot starve it
//! (feature `server`): HTTP/1.1 over hyper, with the bounds that
//! `axum::serve` and a bare hyper loop leave out.
//!
//! - **Header timeout** ([`Server::header_read_timeout`], 10 s): a new
//!   connection must send its first request head within it; a kept-alive
//!   one, its next head within it of that head's first byte. A client that
//!   sends nothing, or headers one byte at a time, is closed. The timeouts
//!   are checked without a timer per request, so a close may come up to a
//!   quarter of the header timeout late (never early).
//! - **Idle timeout** ([`Server::idle_timeout`], 75 s): how long a
//!   kept-alive connection may wait for its next request. Behind a proxy
//!   that keeps idle connections to the receiver, set it above the proxy's
//!   own idle timeout (60 s for many load balancers), so that the receiver
//!   does not close a connection the proxy is about to reuse.
//! - **Request timeout** ([`Server::request_timeout`], 60 s): a backstop
//!   for a request in flight that long (a body trickled a byte at a time, a
//!   handler that never returns): its connection is dropped without an
//!   answer. Put the application's own, shorter timeout around the service
//!   (tower-http's `TimeoutLayer`, as the example receivers do), which
//!   answers `408` first.
//! - **Connection limit** ([`Server::max_connections`], 512): at the
//!   limit, the connection that has waited longest for a request (a
//!   half-sent head included) is closed to make room, so idle clients
//!   cannot hold every slot; when all are busy with requests, the new
//!   connection is answered `503 Service Unavailable` with `Retry-After: 1`
//!   and `Connection: close` (at most 64 such answers linger at once, for a
//!   second each). Connections closing to make room count until they end,
//!   and once a quarter of the limit is still closing (clients that do not
//!   read their answers), new connections are refused instead. A failure to
//!   accept because the process is out of file descriptors or memory also
//!   closes the longest-waiting connection, then accepting resumes.
//! - **Shutdown deadline** ([`Server::shutdown_deadline`], 10 s): once the
//!   `shutdown` future resolves, the listener is closed (new connections
//!   are refused by the system), connections with no request in flight are
//!   closed at once, and every request in flight still gets its answer,
//!   after which its connection closes. Connections still open at the
//!   deadline are closed: keep it above the application's own request
//!   timeout. Dropping the future [`Server::serve`] returns closes every
//!   connection at once.
//!
//! A connection asked to close (by a timeout, to make room, or at
//! shutdown) that still has not an idle timeout later, because its client
//! does not read its answer, is dropped.
//!
//! HTTP/1.1 only: FoxReach, like every webhook sender, posts over
//! HTTP/1.1, and a TLS-terminating proxy in front speaks it to the
//! receiver. With feature `metrics`, the connections the server closes
//! itself are counted in `foxreach_webhooks_connections_closed_total` (see
//! [`crate::observe`]).
//!
//! # Example
//!
//! ```no_run
//! # #[cfg(feature = "axum")] {
//! use std::time::Duration;
//!
//! use axum::Router;
//! use axum::routing::get;
//! use foxreach_webhooks::http::server::Server;
//!
//! # async fn run() -> std::io::Result<()> {
//! let app: Router = Router::new().route("/livez", get(|| async { "ok" })); // and your receiver's routes
//! // A backlog above `TcpListener::bind`'s 128, so that a burst of connections
//! // is not dropped before it is accepted (Linux caps it at net.core.somaxconn).
//! let socket = tokio::net::TcpSocket::new_v4()?;
//! socket.bind("127.0.0.1:3000".parse().expect("an address"))?;
//! let listener = socket.listen(1024)?;
//! let stopped = Server::new()
//!     .header_read_timeout(Duration::from_secs(5))
//!     .serve(listener, app, async { tokio::signal::ctrl_c().await.unwrap_or(()) })
//!     .await;
//! if stopped.closed_at_deadline > 0 {
//!     eprintln!("{} connections were closed at the shutdown deadline", stopped.closed_at_deadline);
//! }
//! # Ok(()) }
//! # }
//! ```

mod accept;
mod activity;
mod connection;
mod refusal;
mod registry;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_service::Service;

use activity::Timeouts;
use registry::Registry;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How a receiver is served: timeouts, the connection limit and the
/// shutdown deadline (see the [module docs](self)). Build it with
/// [`new`](Self::new) and the setters, then [`serve`](Self::serve).
/// `Duration::MAX` for a timeout means none.
#[derive(Clone, Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub struct Server {
    timeouts: Timeouts,
    max_connections: usize,
    shutdown_deadline: Duration,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    /// The defaults: a 10 s header timeout, a 75 s idle timeout, a 60 s
    /// request timeout, 512 connections, a 10 s shutdown deadline.
    #[must_use]
    pub fn new() -> Self {
        Self {
            timeouts: Timeouts {
                header_read: Duration::from_secs(10),
                idle: Duration::from_secs(75),
                request: Duration::from_secs(60),
            },
            max_connections: 512,
            shutdown_deadline: Duration::from_secs(10),
        }
    }

    /// How long a client has to send a request head: from accept for the
    /// first request of a connection, from the head's first byte for the
    /// next ones (default 10 s).
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.header_read = timeout;
        self
    }

    /// How long a kept-alive connection may wait for its next request
    /// (default 75 s); also how long a connection asked to close may take
    /// to finish writing its answer.
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.idle = timeout;
        self
    }

    /// How long a request may be in flight, from its head to its answer
    /// (default 60 s), before its connection is dropped without an answer:
    /// a backstop behind the application's own request timeout.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.request = timeout;
        self
    }

    /// The most connections open at once (default 512, at least 1). Each
    /// holds a file descriptor: keep the limit well under the process's
    /// (`ulimit -n`, often 1,024), which the inbox, logs and outgoing
    /// connections share.
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How long connections with a request in flight may take to finish
    /// once shutdown begins (default 10 s); those still open then are
    /// closed.
    #[must_use]
    pub fn shutdown_deadline(mut self, deadline: Duration) -> Self {
        self.shutdown_deadline = deadline;
        self
    }

    /// Serves `service` (an axum `Router`, or any tower service taking
    /// hyper's requests, whose body type `hyper::body::Incoming` makes
    /// hyper 1 a public dependency of this feature) on the connections
    /// `listener` accepts, until `shutdown` resolves and the connections
    /// have finished or the [shutdown deadline](Self::shutdown_deadline)
    /// passed. Needs a Tokio runtime with its IO and time drivers, as
    /// `#[tokio::main]` builds.
    ///
    /// It never fails: a connection's errors end that connection (logged at
    /// debug level, target `foxreach_webhooks::server`), and failures to
    /// accept are logged as warnings and retried.
    pub async fn serve<S, B>(&self, listener: TcpListener, service: S, shutdown: impl Future<Output = ()>) -> Stopped
    where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let registry = Arc::new(Registry::new());
        let (stop, stopping) = watch::channel(false);
        let mut connections = JoinSet::new();
        let mut accepting = accept::Accepting::default();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(ended) = connections.join_next(), if !connections.is_empty() => accept::ended(ended),
                accepted = listener.accept() => {
                    let Some(stream) = accepting.accepted(accepted, &registry).await else { continue };
                    match registry.admit(self.max_connections) {
                        Some(registered) => {
                            // Answers go out in one write: no reason to hold them back.
                            let _ = stream.set_nodelay(true);
                            let serve = connection::serve(stream, service.clone(), registered, self.timeouts, stopping.clone());
                            connections.spawn(serve);
                        }
                        None => accepting.refuse(stream, self.max_connections),
                    }
                }
            }
        }
        drop(listener);
        // Connections close at once when idle, after their answer otherwise.
        let _ = stop.send(true);
        let finished = async {
            while let Some(ended) = connections.join_next().await {
                accept::ended(ended);
            }
        };
        let _ = tokio::time::timeout(self.shutdown_deadline, finished).await;
        let closed_at_deadline = connections.len();
        if closed_at_deadline > 0 {
            tracing::warn!(
                target: "foxreach_webhooks::server",
                connections = closed_at_deadline,
                deadline_ms = u64::try_from(self.shutdown_deadline.as_millis()).unwrap_or(u64::MAX),
                "closing the connections still open at the shutdown deadline",
            );
            for _ in 0..closed_at_deadline {
                crate::observe::connection_closed("shutdown_deadline");
            }
        }
        connections.shutdown().await;
        debug_assert_eq!(registry.len(), 0, "every connection gave up its place");
        Stopped { closed_at_deadline }
    }
}

/// How [`Server::serve`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub struct Stopped {
    /// Connections still open at the shutdown deadline, and closed then
    /// (a request in flight on one got no answer).
    pub closed_at_deadline: usize,
}
