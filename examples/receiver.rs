//! A FoxReach webhook receiver on axum: `POST /webhooks/foxreach` on
//! `127.0.0.1:$PORT` (default 3000), verified with `FOXREACH_WEBHOOK_SECRET`
//! (the docs' demo secret when unset, with a warning).
//!
//! It prints one line per verified event on stdout (typed or not: its type,
//! its timestamp as sent and its ids, or its raw `data` when it cannot be
//! typed) and answers `204`. A
//! duplicate of a delivery already processed is answered `200` without being
//! printed again (remembered for an hour in memory, or in the Redis at
//! `REDIS_URL` when that is set, so that several receivers share it).
//! Forged or malformed signatures get `401`, bodies over 1 MiB `413`, bodies
//! that are not JSON `400`, JSON that is not a FoxReach event `422`. An event
//! type this crate does not know is accepted and printed as unknown. A
//! request that takes longer than `REQUEST_TIMEOUT_MS` (default 5000:
//! FoxReach waits 5 seconds for an answer) gets `408`, so a sender that
//! trickles its body cannot hold a connection; a handler still running
//! then goes on, on its own task. Refusals and handler failures are logged
//! on stderr (with the crate's `tracing` feature for refusals). On Ctrl-C or
//! SIGTERM it stops accepting, and waits up to 10 seconds for the handlers
//! still running.
//!
//! ```text
//! cargo run --all-features --example receiver
//! cargo run --all-features --example send      # in another terminal
//! ```

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::printer::Printer;
use foxreach_webhooks::Verifier;
use foxreach_webhooks::delivery::{Dispatcher, SeenStore};
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

    let dispatcher = Dispatcher::new(Printer);
    match std::env::var("REDIS_URL") {
        #[cfg(feature = "redis")]
        Ok(url) => {
            let store = foxreach_webhooks::delivery::RedisStore::connect(&url).await?;
            serve(verifier, dispatcher.seen_store(store), timeout).await
        }
        _ => serve(verifier, dispatcher, timeout).await,
    }
}

/// Serves the receiver until Ctrl-C or SIGTERM, then waits for its handlers.
async fn serve<S: SeenStore>(
    verifier: Verifier,
    dispatcher: Dispatcher<Printer, S>,
    timeout: Duration,
) -> Result<(), Box<dyn std::error::Error>> {
    let app = router(common::ROUTE, verifier, dispatcher.clone())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout));
    common::serve(app).await?;
    dispatcher.shutdown(common::SHUTDOWN_GRACE).await?;
    Ok(())
}
