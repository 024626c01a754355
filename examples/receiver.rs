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
//! `200`, also after a restart. `foxreach-webhooks inbox stats` (feature
//! `cli`) shows the inbox.
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
//! accepting and waits up to 10 seconds for the handlers still running;
//! what the inbox holds is processed at the next start.
//!
//! With feature `metrics`, `GET /metrics` answers the receiver's counters
//! in Prometheus's text format (names and labels in the crate's `observe`
//! module), and `GET /healthz` says whether the inbox answers: `200 ok`,
//! or `503` when it does not (the reason goes to the log: it may name the inbox's host).
//!
//! ```text
//! cargo run --all-features --example receiver
//! cargo run --all-features --bin foxreach-webhooks -- send   # in another terminal
//! ```

mod common;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use common::inbox::Opened;
use common::printer::Printer;
use foxreach_webhooks::Verifier;
#[cfg(feature = "metrics")]
use foxreach_webhooks::delivery::inbox::Inbox;
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
    let timeout = Duration::from_millis(common::env_number("REQUEST_TIMEOUT_MS", 5000)?);
    #[cfg(feature = "metrics")]
    let metrics = {
        use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
        // Buckets rather than quantiles, so that Prometheus can add them up
        // across receivers: from a millisecond to FoxReach's 5 s and past.
        let buckets = [0.001, 0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 5.0, 30.0, 300.0];
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("foxreach_webhooks_handler_duration_seconds".to_owned()), &buckets)?
            .install_recorder()?;
        foxreach_webhooks::observe::describe();
        handle
    };
    #[cfg(not(feature = "metrics"))]
    let metrics = ();
    match common::inbox::open().await? {
        Opened::Sqlite(inbox, workers) => {
            serve(verifier, inbox.clone(), timeout, observability(Some(inbox), &metrics)).await?;
            return workers.stop().await;
        }
        #[cfg(feature = "redis")]
        Opened::Redis(inbox, workers) => {
            serve(verifier, inbox.clone(), timeout, observability(Some(inbox), &metrics)).await?;
            return workers.stop().await;
        }
        Opened::Memory => {}
    }
    let routes = observability(None::<foxreach_webhooks::delivery::inbox::SqliteInbox>, &metrics);
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

/// `GET /metrics` and `GET /healthz` (feature `metrics`), or nothing.
#[cfg(feature = "metrics")]
fn observability<I: Inbox + Clone>(
    inbox: Option<I>,
    metrics: &metrics_exporter_prometheus::PrometheusHandle,
) -> Router {
    use axum::routing::get;
    let metrics = metrics.clone();
    let scraped = inbox.clone();
    Router::new()
        .route(
            "/metrics",
            get(move || async move {
                // The inbox gauges as of this scrape (the workers also set
                // them every 15 s); the backlog never counts done entries.
                if let Some(inbox) = &scraped
                    && let Ok(backlog) = inbox.backlog().await
                {
                    foxreach_webhooks::observe::backlog(&backlog);
                }
                // Histograms are summed up here, at each scrape.
                metrics.run_upkeep();
                metrics.render()
            }),
        )
        .route(
            "/healthz",
            get(move || async move {
                let Some(inbox) = inbox else {
                    return (StatusCode::OK, "ok: no inbox (FOXREACH_INBOX=memory)".to_owned());
                };
                match inbox.backlog().await {
                    Ok(_) => (StatusCode::OK, "ok: the inbox answers".to_owned()),
                    // The error may name the inbox's host: logged, not answered.
                    Err(error) => {
                        tracing::error!(%error, "health check: the inbox does not answer");
                        (
                            StatusCode::SERVICE_UNAVAILABLE,
                            "the inbox does not answer (see the receiver's log)".to_owned(),
                        )
                    }
                }
            }),
        )
}

#[cfg(not(feature = "metrics"))]
fn observability<I>(_: Option<I>, _: &()) -> Router {
    Router::new()
}
