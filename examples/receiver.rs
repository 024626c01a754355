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
//! ```text
//! cargo run --all-features --example receiver
//! cargo run --all-features --bin foxreach-webhooks -- send   # in another terminal
//! ```

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::inbox::Opened;
use common::printer::Printer;
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
    let timeout = Duration::from_millis(common::env_number("REQUEST_TIMEOUT_MS", 5000)?);
    match common::inbox::open().await? {
        Opened::Sqlite(inbox, workers) => {
            serve(verifier, inbox, timeout).await?;
            return workers.stop().await;
        }
        #[cfg(feature = "redis")]
        Opened::Redis(inbox, workers) => {
            serve(verifier, inbox, timeout).await?;
            return workers.stop().await;
        }
        Opened::Memory => {}
    }
    let dispatcher = Dispatcher::new(Printer::from_env());
    match std::env::var("REDIS_URL") {
        #[cfg(feature = "redis")]
        Ok(url) => {
            let store = foxreach_webhooks::delivery::RedisStore::connect(&url).await?;
            in_memory(verifier, dispatcher.seen_store(store), timeout).await
        }
        _ => in_memory(verifier, dispatcher, timeout).await,
    }
}

/// Processes deliveries in their requests until Ctrl-C or SIGTERM, then
/// waits for the handlers still running.
async fn in_memory<S: SeenStore>(
    verifier: Verifier,
    dispatcher: Dispatcher<Printer, S>,
    timeout: Duration,
) -> Result<(), Box<dyn std::error::Error>> {
    serve(verifier, dispatcher.clone(), timeout).await?;
    dispatcher.shutdown(common::SHUTDOWN_GRACE).await?;
    Ok(())
}

/// Serves the receiver until Ctrl-C or SIGTERM.
async fn serve(
    verifier: Verifier,
    receiver: impl Receive,
    timeout: Duration,
) -> Result<(), Box<dyn std::error::Error>> {
    let app = router(common::ROUTE, verifier, receiver)
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout));
    common::serve(app).await
}
