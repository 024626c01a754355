//! A whole in-process request with a 1 KiB FoxReach event through axum:
//!
//! - (a) `VerifySignatureLayer` + the `FoxReachEvent` extractor;
//! - (b) the `FoxReachEvent` extractor alone;
//! - (c) the handler people write by hand: axum's `Bytes`, an HMAC keyed on
//!   every request, `hex` decoding, and `serde_json::Value`;
//! - (d) an unverified `Json<serde_json::Value>` handler: the cost of no
//!   security at all, the baseline.
//!
//! `cargo bench --all-features --bench request`; compare each to (d) in the
//! same run.

use std::hint::black_box;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use foxreach_webhooks::http::axum::FoxReachEvent;
use foxreach_webhooks::http::tower::VerifySignatureLayer;
use foxreach_webhooks::{SIGNATURE_HEADER, Verifier, sign};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tower::ServiceExt;

const SECRET: &str = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6a7b8c9d0e1f2";
const PATH: &str = "/webhooks/foxreach";

/// A `reply.received` event of exactly 1 KiB, its preview padded out.
fn event_1kib() -> Bytes {
    let head = r#"{"event":"reply.received","timestamp":"2025-01-15T15:00:00Z","data":{"replyId":"crp_123","campaignId":"cmp_456","leadId":"cld_789","fromEmail":"lead@example.com","subject":"Re: Quick question","bodyPreview":""#;
    let tail = r#""}}"#;
    let preview = "Thanks for reaching out. ".repeat(64);
    let body = format!("{head}{}{tail}", &preview[..1024 - head.len() - tail.len()]);
    assert_eq!(body.len(), 1024);
    Bytes::from(body)
}

async fn typed(FoxReachEvent(event): FoxReachEvent) -> StatusCode {
    black_box(event);
    StatusCode::NO_CONTENT
}

async fn naive(headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some(signature) = headers.get(SIGNATURE_HEADER) else { return StatusCode::UNAUTHORIZED };
    let Ok(signature) = hex::decode(signature.as_bytes()) else { return StatusCode::UNAUTHORIZED };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(&body);
    if mac.verify_slice(&signature).is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value) => {
            black_box(value);
            StatusCode::NO_CONTENT
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

async fn unverified(Json(value): Json<serde_json::Value>) -> StatusCode {
    black_box(value);
    StatusCode::NO_CONTENT
}

fn request(body: &Bytes, signature: &str) -> Request<Body> {
    Request::post(PATH)
        .header(header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(Body::from(body.clone()))
        .expect("a valid request")
}

fn whole_request(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let verifier = Verifier::new(SECRET).expect("not empty");
    let body = event_1kib();
    let signature = sign(SECRET, &body);

    let apps = [
        (
            "(a) layer + FoxReachEvent",
            Router::new()
                .route(PATH, post(typed))
                .layer(VerifySignatureLayer::new(verifier.clone()))
                .with_state(verifier.clone()),
        ),
        ("(b) FoxReachEvent alone", Router::new().route(PATH, post(typed)).with_state(verifier.clone())),
        ("(c) naive: Bytes + HMAC per request + Value", Router::new().route(PATH, post(naive))),
        ("(d) unverified Json<Value>", Router::new().route(PATH, post(unverified))),
    ];

    let mut group = c.benchmark_group("request/1 KiB event");
    for (name, app) in apps {
        let status = runtime.block_on(app.clone().oneshot(request(&body, &signature))).expect("infallible").status();
        assert_eq!(status, StatusCode::NO_CONTENT, "{name} accepts the signed event");
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async { app.clone().oneshot(request(&body, &signature)).await })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = whole_request
}
criterion_main!(benches);
