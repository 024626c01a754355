//! A whole in-process request with a 1 KiB FoxReach event through axum:
//!
//! - (a) `VerifySignatureLayer` + the `FoxReachEvent` extractor;
//! - (b) the `FoxReachEvent` extractor alone;
//! - (c) the handler people write by hand: axum's `Bytes`, an HMAC keyed on
//!   every request, `hex` decoding, and `serde_json::Value`;
//! - (d) an unverified `Json<serde_json::Value>` handler: the cost of no
//!   security at all, the baseline.
//!
//! Then, each request a new delivery (a fresh body and signature made
//! outside the timing), so that the duplicate store does real work:
//!
//! - (b) the `FoxReachEvent` extractor alone, the plain path;
//! - (n) the one-call `router` with a store that remembers nothing: the cost
//!   of dispatch alone;
//! - (e) the one-call `router`: the extractor's path, the dispatcher and the
//!   default `MemoryStore` (a claim and a completion per delivery);
//! - (e') the same with a store of 1,000 deliveries, full and forgetting an
//!   old delivery for each new one;
//! - (t) `tenant_router` to one of 1,000 tenants, each with its own
//!   secret, through a `CachedResolver` (a cache hit), then the same
//!   dispatcher: the cost of serving several webhooks;
//! - (f) the same router answering a duplicate of a processed delivery
//!   (request built inside the timing).
//!
//! Within each of these two groups the handlers take turns request by
//! request, and the ratios printed after the group are over all the turns
//! (see `support`). `cargo bench --all-features --bench request`.

mod support;

use std::cell::Cell;
use std::future::{Future, ready};
use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use foxreach_webhooks::delivery::{
    Claim, Delivery, DeliveryKey, Dispatcher, Handled, Handler, MemoryStore, SeenStore, StoreError,
};
use foxreach_webhooks::event::ReplyReceived;
use foxreach_webhooks::http::axum::{FoxReachEvent, router, tenant_router};
use foxreach_webhooks::http::tower::VerifySignatureLayer;
use foxreach_webhooks::tenant::{CachedResolver, Tenant};
use foxreach_webhooks::{SIGNATURE_HEADER, Verifier, sign};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use support::{Contender, taking_turns};
use tower::ServiceExt;

const SECRET: &str = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6a7b8c9d0e1f2";
const PATH: &str = "/webhooks/foxreach";

/// A `reply.received` event of exactly 1 KiB, its preview padded out.
fn event_1kib() -> Bytes {
    numbered_event_1kib(123)
}

/// A `reply.received` event of exactly 1 KiB whose reply id is `n`.
fn numbered_event_1kib(n: u64) -> Bytes {
    let head = format!(
        r#"{{"event":"reply.received","timestamp":"2025-01-15T15:00:00Z","data":{{"replyId":"crp_{n:012}","campaignId":"cmp_456","leadId":"cld_789","fromEmail":"lead@example.com","subject":"Re: Quick question","bodyPreview":""#
    );
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

/// The dispatcher's handler: takes the typed reply and does nothing with it.
struct Sink;

impl Handler for Sink {
    async fn reply_received(&self, reply: ReplyReceived, _: Delivery<'_>) -> Handled {
        black_box(reply);
        Ok(())
    }
}

/// A store that remembers nothing: every delivery is new.
struct Forgetful;

impl SeenStore for Forgetful {
    fn claim(&self, _: &DeliveryKey) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        ready(Ok(Claim::New))
    }

    fn complete(&self, _: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send {
        ready(Ok(()))
    }

    fn release(&self, _: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send {
        ready(Ok(()))
    }

    fn renew(&self, _: &DeliveryKey) -> impl Future<Output = Result<bool, StoreError>> + Send {
        ready(Ok(true))
    }

    fn lease_duration(&self) -> std::time::Duration {
        foxreach_webhooks::delivery::DEFAULT_LEASE
    }
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
    request_to(PATH, body, signature)
}

fn request_to(path: &str, body: &Bytes, signature: &str) -> Request<Body> {
    Request::post(path)
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

    for (name, app) in &apps {
        let status = runtime.block_on(app.clone().oneshot(request(&body, &signature))).expect("infallible").status();
        assert_eq!(status, StatusCode::NO_CONTENT, "{name} accepts the signed event");
    }
    let mut contenders = apps.map(|(name, app)| sending(name, &runtime, app, || request(&body, &signature)));
    taking_turns(c, "request/1 KiB event", &mut contenders, 3, requests_per_turn());

    let plain = Router::new().route(PATH, post(typed)).with_state(verifier.clone());
    let dispatching = router(PATH, verifier.clone(), Dispatcher::new(Sink));
    let small_store = Dispatcher::new(Sink).seen_store(MemoryStore::new().capacity(1_000));
    let dispatching_small = router(PATH, verifier.clone(), small_store);
    let status =
        runtime.block_on(dispatching.clone().oneshot(request(&body, &signature))).expect("infallible").status();
    assert_eq!(status, StatusCode::NO_CONTENT, "the router processes the signed event");

    let forgetful = router(PATH, verifier.clone(), Dispatcher::new(Sink).seen_store(Forgetful));
    let tenants: std::collections::HashMap<Tenant, Verifier> = (0..1_000)
        .map(|n| {
            (format!("tenant-{n}").parse().expect("a name"), Verifier::new(format!("{SECRET}{n}")).expect("a secret"))
        })
        .collect();
    let tenanted =
        tenant_router("/webhooks/foxreach/{tenant}", CachedResolver::new(tenants, 10_000), Dispatcher::new(Sink));
    let apps = vec![
        ("(b) FoxReachEvent alone", plain),
        ("(n) router, a store that remembers nothing", forgetful),
        ("(e) router: dispatcher + MemoryStore", dispatching.clone()),
        ("(e') router, MemoryStore of 1,000 (in cache)", dispatching_small),
        ("(t) tenant_router, 1,000 tenants, cached", tenanted),
    ];
    let next = Cell::new(0u64);
    let fresh = || {
        next.set(next.get() + 1);
        let body = numbered_event_1kib(next.get());
        request(&body, &sign(SECRET, &body))
    };
    // To the tenants in turn, each request signed with its tenant's secret.
    let fresh_tenant = || {
        next.set(next.get() + 1);
        let (body, tenant) = (numbered_event_1kib(next.get()), next.get() % 1_000);
        let path = format!("/webhooks/foxreach/tenant-{tenant}");
        request_to(&path, &body, &sign(format!("{SECRET}{tenant}"), &body))
    };
    let mut contenders: Vec<_> = apps
        .into_iter()
        .map(|(name, app)| match name.starts_with("(t)") {
            true => sending(name, &runtime, app, Box::new(fresh_tenant) as Box<dyn FnMut() -> Request<Body>>),
            false => sending(name, &runtime, app, Box::new(fresh)),
        })
        .collect();
    taking_turns(c, "request/1 KiB event, a new delivery each time", &mut contenders, 0, requests_per_turn());

    let mut group = c.benchmark_group("request/1 KiB event, a duplicate");
    group.bench_function("(f) router", |b| {
        b.to_async(&runtime).iter(|| async { dispatching.clone().oneshot(request(&body, &signature)).await })
    });
    group.finish();
}

/// Requests each handler serves per turn: `REQUESTS_PER_TURN`, or 1. With
/// 1, each request follows another handler's, so caches are as cold as on a
/// server with mixed traffic; with 32, a handler's code warms up as on a
/// server that only receives webhooks, while turns still take well under a
/// millisecond.
fn requests_per_turn() -> u32 {
    std::env::var("REQUESTS_PER_TURN").ok().and_then(|value| value.parse().ok()).unwrap_or(1)
}

/// A contender that sends requests from `request` to `app`, timing only the
/// round trip through the router.
fn sending<'a>(
    name: &'a str,
    runtime: &'a tokio::runtime::Runtime,
    app: Router,
    mut request: impl FnMut() -> Request<Body> + 'a,
) -> Contender<'a> {
    Contender {
        name,
        run: Box::new(move |calls| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..calls {
                let request = request();
                let started = Instant::now();
                let response = runtime.block_on(app.clone().oneshot(request));
                elapsed += started.elapsed();
                black_box(response).expect("infallible");
            }
            elapsed
        }),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = whole_request
}
criterion_main!(benches);
