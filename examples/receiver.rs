//! A FoxReach webhook receiver on axum: `POST /webhooks/foxreach` on
//! `127.0.0.1:$PORT` (default 3000), verified with `FOXREACH_WEBHOOK_SECRET`
//! (the docs' demo secret when unset, with a warning).
//!
//! It prints one line per verified event on stdout and answers `204 No
//! Content`; forged or malformed signatures get `401`, bodies over 1 MiB
//! `413`, bodies that are not JSON `400`, JSON that is not a FoxReach event
//! `422`. An event type this crate does not know is accepted and printed as
//! unknown. A request that takes longer than `REQUEST_TIMEOUT_MS` (default
//! 5000: FoxReach waits 5 seconds for an answer) gets `408`, so a sender that
//! trickles its body cannot hold a connection. With the crate's `tracing`
//! feature, refusals are logged on stderr (status and reason only).
//!
//! ```text
//! cargo run --all-features --example receiver
//! cargo run --all-features --example send      # in another terminal
//! ```

mod common;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use foxreach_webhooks::Verifier;
use foxreach_webhooks::http::axum::FoxReachEvent;
use tower_http::timeout::TimeoutLayer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_writer(std::io::stderr)
        .init();
    // Refuses an empty secret here, at start-up, rather than every delivery later.
    let verifier = Verifier::new(common::secret())?;
    let timeout = Duration::from_millis(common::env_number("REQUEST_TIMEOUT_MS", 5000)?);
    let app = Router::new()
        .route(common::ROUTE, post(receive))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .with_state(verifier);

    common::serve(app).await
}

async fn receive(FoxReachEvent(event): FoxReachEvent) -> StatusCode {
    println!("{}", common::summary(&event));
    StatusCode::NO_CONTENT
}
