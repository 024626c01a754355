//! A FoxReach webhook receiver on axum: `POST /webhooks/foxreach` on
//! `127.0.0.1:$PORT` (default 3000), verified with `FOXREACH_WEBHOOK_SECRET`
//! (the docs' demo secret when unset, with a warning).
//!
//! It prints one line per verified event and answers `204 No Content`;
//! forged or malformed signatures get `401`, bodies over 1 MiB `413`, bodies
//! that are not JSON `400`, JSON that is not a FoxReach event `422`. An event
//! type this crate does not know is accepted and printed as unknown.
//!
//! ```text
//! cargo run --all-features --example receiver
//! cargo run --all-features --example send      # in another terminal
//! ```

mod common;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use foxreach_webhooks::Verifier;
use foxreach_webhooks::http::axum::FoxReachEvent;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Refuses an empty secret here, at start-up, rather than every delivery later.
    let verifier = Verifier::new(common::secret())?;
    let app = Router::new().route(common::ROUTE, post(receive)).with_state(verifier);

    let listener = TcpListener::bind(("127.0.0.1", common::port()?)).await?;
    eprintln!("listening on http://{}{}", listener.local_addr()?, common::ROUTE);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

async fn receive(FoxReachEvent(event): FoxReachEvent) -> StatusCode {
    println!("{}", common::summary(&event));
    StatusCode::NO_CONTENT
}
