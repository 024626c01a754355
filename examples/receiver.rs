//! A FoxReach webhook receiver on axum: `POST /webhooks/foxreach` on
//! `127.0.0.1:$PORT` (default 3000), verified with the secret files named by
//! `FOXREACH_WEBHOOK_SECRET_FILE` (one path, or `old.secret:new.secret`
//! while rotating), else with `FOXREACH_WEBHOOK_SECRET` (the docs' demo
//! secret when neither is set, with a warning).
//!
//! By default every verified delivery is kept in a durable inbox, the
//! SQLite file named by `FOXREACH_INBOX` (default `foxreach-inbox.sqlite3`
//! in the working directory), or in the Redis at `REDIS_URL` when that is
//! set (so that several receivers share it), and answered `202` once it is
//! kept.
//! Workers in the same process then write one line per event (typed or not:
//! its type, its timestamp as sent and its ids, or its raw `data` when it
//! cannot be typed) on stdout, or append it to the file named by
//! `FOXREACH_EVENTS_FILE`. While that file cannot be opened, each event
//! fails retryably and is tried again on the inbox's backoff (from 5
//! seconds, doubling to 30 minutes, for a day), long after FoxReach's own
//! retries have ended. A duplicate of a delivery already kept is answered
//! `200`, also after a restart. `foxreach-webhooks inbox stats` (crate
//! `foxreach-cli`) shows the inbox.
//!
//! With `FOXREACH_INBOX=memory`, deliveries are processed inside the
//! request instead (answered `204`), with duplicates remembered for an hour
//! in memory, or in the Redis at `REDIS_URL` when that is set: nothing is
//! kept if the process dies or the events file is unavailable for longer
//! than FoxReach retries.
//!
//! Forged or malformed signatures get `401`, bodies over 1 MiB `413`. In
//! memory mode, bodies that are not JSON get `400` and JSON that is not a
//! FoxReach event `422`; the inbox keeps them, as dead letters. A request
//! that takes longer than `REQUEST_TIMEOUT_MS` (default 5000: FoxReach waits
//! 5 seconds for an answer) gets `408`. On Ctrl-C or SIGTERM it stops
//! accepting, closes idle connections, gives the requests in flight up to
//! 10 seconds to be answered, then waits up to 10 more for the handlers
//! still running (so up to 20 s in all); what the inbox holds is processed
//! at the next start.
//!
//! It is served by the crate's `http::server::Server`: a client that sends
//! no complete request head within `HEADER_TIMEOUT_MS` (default 10000) is
//! closed, a kept-alive connection idle for `IDLE_TIMEOUT_MS` (default
//! 75000) too; at `MAX_CONNECTIONS` (default 512) the idlest connection
//! makes room, or a new one is answered `503` when all are busy. With
//! `FOXREACH_INBOX_MAX_OPEN` set, deliveries are answered `503` while that
//! many entries wait to be processed.
//!
//! For an orchestrator: `GET /livez` answers `200` while the process
//! serves (the liveness probe: restart when it fails); `GET /readyz` (and
//! `/healthz`, the same) answers `200` when a delivery would be kept now:
//! the inbox takes a write, its file is the one opened, it is under its
//! bound; otherwise `503`, with the reason in the log (it may name the
//! inbox's host). Point the readiness probe there: a locked or full inbox
//! takes the receiver out of rotation without restarting it. With feature
//! `metrics`, `GET /metrics` answers the receiver's counters in
//! Prometheus's text format (names and labels in the crate's `observe`
//! module).
//!
//! ```text
//! cargo run --all-features --example receiver
//! cargo run -p foxreach-cli -- send   # in another terminal
//! ```

mod common;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common::inbox::Opened;
use common::printer::Printer;
use foxreach_inbox::{Inbox, SqliteInbox};
use foxreach_webhooks::Verifier;
use foxreach_webhooks::delivery::{Dispatcher, Receive, SeenStore};
use foxreach_webhooks::http::axum::router;
use tower_http::timeout::TimeoutLayer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_writer(std::io::stderr)
        .init();
    let verifier = common::verifier()?;
    let timeout = common::request_timeout()?;
    let metrics = Metrics::install()?;
    match common::inbox::open().await? {
        Opened::Sqlite(inbox, workers) => {
            serve(verifier, inbox.clone(), timeout, operations(Some(inbox), &metrics)).await?;
            return workers.stop().await;
        }
        Opened::Redis(inbox, workers) => {
            serve(verifier, inbox.clone(), timeout, operations(Some(inbox), &metrics)).await?;
            return workers.stop().await;
        }
        Opened::Memory => {}
    }
    let routes = operations(None::<SqliteInbox>, &metrics);
    let dispatcher = Dispatcher::new(Printer::from_env());
    match std::env::var("REDIS_URL") {
        #[cfg(feature = "redis")]
        Ok(url) => {
            let store = foxreach_webhooks::delivery::RedisStore::connect(&url).await?;
            in_memory(verifier, dispatcher.seen_store(store), timeout, routes).await
        }
        _ => in_memory(verifier, dispatcher, timeout, routes).await,
    }
}

/// Processes deliveries in their requests until Ctrl-C or SIGTERM, then
/// waits for the handlers still running.
async fn in_memory<S: SeenStore>(
    verifier: Verifier,
    dispatcher: Dispatcher<Printer, S>,
    timeout: Duration,
    routes: Router,
) -> Result<(), Box<dyn std::error::Error>> {
    serve(verifier, dispatcher.clone(), timeout, routes).await?;
    dispatcher.shutdown(common::SHUTDOWN_GRACE).await?;
    Ok(())
}

/// Serves the receiver, and `routes` beside it, until Ctrl-C or SIGTERM.
async fn serve(
    verifier: Verifier,
    receiver: impl Receive,
    timeout: Duration,
    routes: Router,
) -> Result<(), Box<dyn std::error::Error>> {
    let app = router(common::ROUTE, verifier, receiver)
        .merge(routes)
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout));
    common::serve(app).await
}

/// `GET /livez` (the process answers), `GET /readyz` (deliveries can be kept
/// now; `/healthz` is the same), and with feature `metrics` `GET /metrics`.
fn operations<I: Inbox + Clone>(inbox: Option<I>, metrics: &Metrics) -> Router {
    let probed = inbox.clone();
    let ready = get(move || readiness(probed.clone()));
    Router::new()
        .route("/livez", get(|| async { "ok: the receiver runs" }))
        .route("/readyz", ready.clone())
        .route("/healthz", ready)
        .merge(metrics.route(inbox))
}

/// `200` when an append made now would be kept (the inbox probes with a
/// write), `503` with the reason in the log (it may name the inbox's host
/// or file) otherwise.
async fn readiness<I: Inbox>(inbox: Option<I>) -> (StatusCode, &'static str) {
    let Some(inbox) = inbox else {
        return (StatusCode::OK, "ready: deliveries are processed in the request (FOXREACH_INBOX=memory)");
    };
    match inbox.ready().await {
        Ok(()) => (StatusCode::OK, "ready: deliveries are kept"),
        Err(error) => {
            tracing::warn!(%error, "not ready: the inbox cannot keep deliveries now");
            let why = match error.is_full() {
                true => "not ready: the inbox is at its bound on open entries (see the receiver's log)",
                false => "not ready: the inbox cannot keep deliveries now (see the receiver's log)",
            };
            (StatusCode::SERVICE_UNAVAILABLE, why)
        }
    }
}

/// The Prometheus recorder (feature `metrics`), or nothing.
#[cfg(feature = "metrics")]
struct Metrics(metrics_exporter_prometheus::PrometheusHandle);
#[cfg(not(feature = "metrics"))]
struct Metrics;

impl Metrics {
    /// Installs the recorder, with buckets rather than quantiles for handler
    /// durations, so that Prometheus can add them up across receivers: from
    /// a millisecond to FoxReach's 5 s and past.
    #[cfg(feature = "metrics")]
    fn install() -> Result<Self, Box<dyn std::error::Error>> {
        use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
        let buckets = [0.001, 0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 5.0, 30.0, 300.0];
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("foxreach_webhooks_handler_duration_seconds".to_owned()), &buckets)?
            .install_recorder()?;
        foxreach_webhooks::observe::describe();
        Ok(Self(handle))
    }

    #[cfg(not(feature = "metrics"))]
    fn install() -> Result<Self, Box<dyn std::error::Error>> {
        Ok(Self)
    }

    /// `GET /metrics`: the recorder's text.
    #[cfg(feature = "metrics")]
    fn route<I: Inbox + Clone>(&self, inbox: Option<I>) -> Router {
        let handle = self.0.clone();
        Router::new().route(
            "/metrics",
            get(move || {
                let (handle, inbox) = (handle.clone(), inbox.clone());
                async move {
                    // The inbox gauges as of this scrape (the workers also set
                    // them every 15 s); the backlog never counts done entries.
                    if let Some(inbox) = &inbox
                        && let Ok(backlog) = inbox.backlog().await
                    {
                        backlog.record();
                    }
                    // Histograms are summed up here, at each scrape.
                    handle.run_upkeep();
                    handle.render()
                }
            }),
        )
    }

    #[cfg(not(feature = "metrics"))]
    fn route<I>(&self, _: Option<I>) -> Router {
        Router::new()
    }
}
