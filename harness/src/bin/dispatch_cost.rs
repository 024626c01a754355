//! What the dispatcher and its duplicate store add to a whole request, in
//! instructions rather than seconds, for a measurement that this shared,
//! noisy machine cannot blur:
//!
//! ```text
//! cargo build --release -p foxreach-webhooks-harness --bin dispatch_cost
//! for variant in setup plain router; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/dispatch_cost $variant 2000 2>&1 | grep refs
//! done
//! ```
//!
//! Each variant builds 2,000 signed 1 KiB `reply.received` requests, each a
//! new delivery, and then: `setup` drops them; `plain` sends them through a
//! router with the `FoxReachEvent` extractor alone (bench (b) of
//! `benches/request.rs`); `router` through `http::axum::router` with a
//! `Dispatcher` and a `MemoryStore` of 1,000 deliveries, full and forgetting
//! an old delivery for each new one (bench (e')). Subtract `setup` from the others for the requests alone.
//! Under valgrind, sha2 uses its portable SHA-256, so verification weighs
//! more here than with SHA-NI.

use std::hint::black_box;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use foxreach_webhooks::delivery::{Delivery, DeliveryKey, Dispatcher, Handled, Handler, MemoryStore, SeenStore};
use foxreach_webhooks::event::ReplyReceived;
use foxreach_webhooks::http::axum::{FoxReachEvent, router};
use foxreach_webhooks::{SIGNATURE_HEADER, Verifier, sign};
use tower::ServiceExt;

const SECRET: &str = "dispatch-cost";

struct Sink;

impl Handler for Sink {
    async fn reply_received(&self, reply: ReplyReceived, _: Delivery<'_>) -> Handled {
        black_box(reply);
        Ok(())
    }
}

async fn typed(FoxReachEvent(event): FoxReachEvent) -> StatusCode {
    black_box(event);
    StatusCode::NO_CONTENT
}

/// A `reply.received` body of exactly 1 KiB whose reply id is `n`.
fn body(n: usize) -> Vec<u8> {
    let head = format!(
        r#"{{"event":"reply.received","timestamp":"2025-01-15T15:00:00Z","data":{{"replyId":"crp_{n:012}","campaignId":"cmp_456","leadId":"cld_789","fromEmail":"lead@example.com","subject":"Re: Quick question","bodyPreview":""#
    );
    let tail = r#""}}"#;
    let preview = "Thanks for reaching out. ".repeat(64);
    format!("{head}{}{tail}", &preview[..1024 - head.len() - tail.len()]).into_bytes()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [variant, count] = args.as_slice() else {
        return Err("usage: dispatch_cost <setup|plain|router> <requests>".into());
    };
    let count: usize = count.parse()?;
    let verifier = Verifier::new(SECRET)?;
    // Filled in every variant, so that the work cancels out: three times its
    // capacity, so that every shard is full and each measured delivery
    // makes room for itself.
    let store = Arc::new(MemoryStore::new().capacity(1_000));
    for n in 0..3_000u32 {
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(&n.to_le_bytes());
        store.claim(&DeliveryKey::new(key)).await?;
        store.complete(&DeliveryKey::new(key)).await?;
    }
    let app = match variant.as_str() {
        "setup" => None,
        "plain" => Some(Router::new().route("/", post(typed)).with_state(verifier)),
        "router" => Some(router("/", verifier, Dispatcher::new(Sink).seen_store(store))),
        _ => return Err("the variant is setup, plain or router".into()),
    };
    let requests = (0..count)
        .map(|n| {
            let body = body(n);
            let signature = sign(SECRET, &body);
            Request::post("/").header(SIGNATURE_HEADER, signature).body(Body::from(body))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let Some(app) = app else {
        black_box(requests);
        return Ok(());
    };
    for request in requests {
        let status = app.clone().oneshot(request).await?.status();
        if !status.is_success() {
            return Err(format!("answered {status}").into());
        }
    }
    Ok(())
}
