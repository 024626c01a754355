//! A baseline for measuring, NOT a receiver to deploy: the same route, port,
//! request timeout and output as `receiver`, but it verifies nothing and
//! parses the body into `serde_json::Value`. `.ci/load` runs it beside
//! `receiver` to report what verification costs under load.

mod common;

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use tower_http::timeout::TimeoutLayer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    eprintln!("WARNING: this baseline verifies NO signature; it exists only to measure against");
    let timeout = Duration::from_millis(common::env_number("REQUEST_TIMEOUT_MS", 5000)?);
    let app = Router::new()
        .route(common::ROUTE, post(receive))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout));
    common::serve(app).await
}

async fn receive(Json(value): Json<serde_json::Value>) -> StatusCode {
    println!("{} at {}", value["event"].as_str().unwrap_or("?"), value["timestamp"].as_str().unwrap_or("?"));
    StatusCode::NO_CONTENT
}
