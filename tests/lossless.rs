//! A verified delivery is never lost: slow and panicking handlers, requests
//! dropped halfway, rotation and shutdown, through both the axum router and
//! the tower receiver.
#![cfg(all(feature = "axum", feature = "delivery", feature = "test-util"))]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use foxreach_webhooks::delivery::{
    Claim, Delivery, DeliveryKey, Dispatcher, Handled, Handler, HandlerError, MemoryStore, SeenStore, StoreError,
};
use foxreach_webhooks::event::{EmailSent, LeadUpdated};
use foxreach_webhooks::http::FullBody;
use foxreach_webhooks::http::axum::router;
use foxreach_webhooks::http::test_util::signed;
use foxreach_webhooks::http::tower::receiver;
use foxreach_webhooks::{Verifier, sign};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use support::{PATH, verifier};
use tower::ServiceExt;

const LEAD_UPDATED: &str = r#"{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{"leadId":"cld_789"}}"#;

/// A handler that takes `delay` and counts what it started, finished and
/// ran at once. While they last, it panics before waiting
/// (`early_panics`), after waiting (`late_panics`), or fails retryably
/// after waiting (`failures`).
#[derive(Default)]
struct Work {
    delay: Duration,
    early_panics: AtomicUsize,
    late_panics: AtomicUsize,
    failures: AtomicUsize,
    started: AtomicUsize,
    finished: AtomicUsize,
    running: AtomicUsize,
    most_at_once: AtomicUsize,
}

/// Takes one of what `left` counts, if any is left.
fn take(left: &AtomicUsize) -> bool {
    left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

impl Work {
    fn taking(delay: Duration) -> Arc<Self> {
        Arc::new(Self { delay, ..Self::default() })
    }

    fn panicking_once() -> Arc<Self> {
        Arc::new(Self { early_panics: AtomicUsize::new(1), ..Self::default() })
    }

    fn counts(&self) -> (usize, usize, usize) {
        let load = |n: &AtomicUsize| n.load(Ordering::SeqCst);
        (load(&self.started), load(&self.finished), load(&self.most_at_once))
    }

    async fn run(&self) -> Handled {
        self.started.fetch_add(1, Ordering::SeqCst);
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        if take(&self.early_panics) {
            self.running.fetch_sub(1, Ordering::SeqCst);
            panic!("the handler's own bug");
        }
        tokio::time::sleep(self.delay).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        if take(&self.late_panics) {
            panic!("the handler's own bug, after an await");
        }
        if take(&self.failures) {
            return Err(HandlerError::retryable("the CRM timed out"));
        }
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Handler for Work {
    async fn lead_updated(&self, _: LeadUpdated, _: Delivery<'_>) -> Handled {
        self.run().await
    }

    async fn email_sent(&self, _: EmailSent, _: Delivery<'_>) -> Handled {
        self.run().await
    }
}

/// The two receivers this crate builds, over one dispatcher.
#[derive(Clone)]
enum Glue {
    Router(axum::Router),
    Tower(foxreach_webhooks::http::tower::Receiver<Dispatcher<Arc<Work>, MemoryStore>>),
}

impl Glue {
    fn both(verifier: &Verifier, dispatcher: &Dispatcher<Arc<Work>>) -> [Self; 2] {
        [
            Self::Router(router(PATH, verifier.clone(), dispatcher.clone())),
            Self::Tower(receiver(verifier.clone(), dispatcher.clone())),
        ]
    }

    async fn send(&self, request: Request<FullBody>) -> (StatusCode, String) {
        let response = match self.clone() {
            Self::Router(app) => app.oneshot(request).await.expect("infallible").map(axum::body::Body::new),
            Self::Tower(service) => service.oneshot(request).await.expect("infallible").map(axum::body::Body::new),
        };
        let status = response.status();
        assert_eq!(
            response.headers().contains_key(header::RETRY_AFTER),
            status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::CONFLICT,
            "Retry-After on {status}"
        );
        let body = response.into_body().collect().await.expect("a body").to_bytes();
        (status, String::from_utf8(body.to_vec()).expect("text"))
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Router(_) => "router",
            Self::Tower(_) => "tower",
        }
    }
}

/// Each receiver over a fresh dispatcher for `work`, shaped by `build`.
fn receivers(
    work: impl Fn() -> Arc<Work>,
    build: impl Fn(Dispatcher<Arc<Work>>) -> Dispatcher<Arc<Work>>,
) -> Vec<(Glue, Dispatcher<Arc<Work>>, Arc<Work>)> {
    (0..2)
        .map(|i| {
            let work = work();
            let dispatcher = build(Dispatcher::new(Arc::clone(&work)));
            let glue = Glue::both(&verifier(), &dispatcher)[i].clone();
            (glue, dispatcher, work)
        })
        .collect()
}

fn delivery() -> Request<FullBody> {
    signed(&verifier(), PATH, LEAD_UPDATED)
}

/// Waits (up to ten seconds, for a loaded machine) until no handler runs.
async fn settled(dispatcher: &Dispatcher<Arc<Work>>) {
    for _ in 0..1000 {
        if dispatcher.running() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("a handler was still running after ten seconds");
}

#[tokio::test]
async fn a_handler_slower_than_the_budget_completes_once_and_its_retry_is_a_duplicate() {
    let slow = || Work::taking(Duration::from_millis(1000));
    for (glue, dispatcher, work) in receivers(slow, |d| d.answer_budget(Duration::from_millis(50))) {
        let (status, text) = glue.send(delivery()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{}: {text}", glue.name());
        assert!(text.contains("still processing"), "{text}");
        assert_eq!(work.counts().1, 0, "{}: answered before the handler finished", glue.name());

        // FoxReach's retry while it runs: refused, not started twice.
        assert_eq!(glue.send(delivery()).await.0, StatusCode::CONFLICT, "{}", glue.name());
        settled(&dispatcher).await;
        // The retry after it finished: acknowledged, not run again.
        assert_eq!(glue.send(delivery()).await.0, StatusCode::OK, "{}", glue.name());
        assert_eq!(work.counts(), (1, 1, 1), "{}: (started, finished, at once)", glue.name());
    }
}

#[tokio::test]
async fn dropping_the_request_does_not_cancel_the_handler() {
    // A timeout layer, or FoxReach hanging up, drops the request's future.
    for (glue, dispatcher, work) in receivers(|| Work::taking(Duration::from_millis(300)), |d| d) {
        let dropped = tokio::time::timeout(Duration::from_millis(30), glue.send(delivery())).await;
        assert!(dropped.is_err(), "{}: the request was dropped before its answer", glue.name());
        settled(&dispatcher).await;
        assert_eq!(work.counts(), (1, 1, 1), "{}: the handler ran to its end", glue.name());
        assert_eq!(glue.send(delivery()).await.0, StatusCode::OK, "{}: the retry is a duplicate", glue.name());
    }
}

#[tokio::test]
async fn the_claim_is_renewed_while_a_handler_outlives_its_lease() {
    let build = |d: Dispatcher<Arc<Work>>| {
        d.answer_budget(Duration::from_millis(20)).seen_store(MemoryStore::new().lease(Duration::from_millis(600)))
    };
    for (glue, dispatcher, work) in receivers(|| Work::taking(Duration::from_millis(2500)), build) {
        assert_eq!(dispatcher.store().lease_duration(), Duration::from_millis(600));
        assert_eq!(glue.send(delivery()).await.0, StatusCode::SERVICE_UNAVAILABLE);
        // Two and a half leases later, a copy still finds it in progress.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(glue.send(delivery()).await.0, StatusCode::CONFLICT, "{}", glue.name());
        settled(&dispatcher).await;
        assert_eq!(work.counts(), (1, 1, 1), "{}: never started twice", glue.name());
    }
}

#[tokio::test]
async fn a_handler_past_the_budget_that_then_fails_is_released_and_its_retry_runs() {
    let failing =
        || Arc::new(Work { delay: Duration::from_millis(300), failures: AtomicUsize::new(1), ..Work::default() });
    for (glue, dispatcher, work) in receivers(failing, |d| d.answer_budget(Duration::from_millis(30))) {
        assert_eq!(glue.send(delivery()).await.0, StatusCode::SERVICE_UNAVAILABLE, "{}", glue.name());
        settled(&dispatcher).await;
        assert_eq!(work.counts(), (1, 0, 1), "{}: it ran to its failure", glue.name());
        // The failure released the claim: FoxReach's retry runs it again.
        assert_eq!(glue.send(delivery()).await.0, StatusCode::SERVICE_UNAVAILABLE, "{}", glue.name());
        settled(&dispatcher).await;
        assert_eq!(work.counts(), (2, 1, 1), "{}", glue.name());
        assert_eq!(glue.send(delivery()).await.0, StatusCode::OK, "{}: now done", glue.name());
    }
}

#[tokio::test]
async fn a_handler_that_panics_after_an_await_gets_500_and_its_retry_runs() {
    let panicking =
        || Arc::new(Work { delay: Duration::from_millis(50), late_panics: AtomicUsize::new(1), ..Work::default() });
    for (glue, dispatcher, work) in receivers(panicking, |d| d) {
        let (status, text) = glue.send(delivery()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{}: {text}", glue.name());
        settled(&dispatcher).await;
        assert_eq!(glue.send(delivery()).await.0, StatusCode::NO_CONTENT, "{}", glue.name());
        assert_eq!(work.counts(), (2, 1, 1), "{}", glue.name());
    }
}

#[tokio::test]
async fn a_panicking_handler_gets_500_and_its_retry_runs() {
    let logs = support::logs::capture();
    for (glue, dispatcher, work) in receivers(Work::panicking_once, |d| d) {
        let (status, text) = glue.send(delivery()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{}: {text}", glue.name());
        assert!(text.contains("panicked"), "{text}");
        settled(&dispatcher).await;
        // The claim was released: FoxReach's retry runs at once, not after the lease.
        assert_eq!(glue.send(delivery()).await.0, StatusCode::NO_CONTENT, "{}", glue.name());
        assert_eq!(work.counts(), (2, 1, 1), "{}", glue.name());
        // And the receiver goes on serving.
        assert_eq!(glue.send(delivery()).await.0, StatusCode::OK, "{}", glue.name());
    }
    let text = logs.text();
    let body = LEAD_UPDATED.as_bytes();
    let key = DeliveryKey::verify(&verifier(), body, sign(support::SECRET, body)).expect("verifies");
    let line = text.lines().find(|line| line.contains("handler panicked")).expect("the panic is logged");
    assert!(line.contains("ERROR") && line.contains("lead.updated") && line.contains(&key.to_string()), "{line}");
    assert!(!text.contains("cld_789"), "the body never reaches the logs: {text}");
}

#[tokio::test]
async fn both_webhooks_of_a_rotation_deliver_one_event_that_runs_once() {
    let body = Bytes::from_static(include_bytes!("fixtures/payloads/email.sent.json"));
    for secrets in [["old-secret", "new-secret"], ["new-secret", "old-secret"]] {
        let rotating = Verifier::from_secrets(secrets).expect("secrets are not empty");
        let work = Work::taking(Duration::ZERO);
        let dispatcher = Dispatcher::new(Arc::clone(&work));
        for glue in Glue::both(&rotating, &dispatcher) {
            let by = |secret: &str| {
                Request::post(PATH)
                    .header(foxreach_webhooks::SIGNATURE_HEADER, sign(secret, &body))
                    .body(FullBody::new(body.clone()))
                    .expect("a request")
            };
            let first = glue.send(by("old-secret")).await.0;
            let second = glue.send(by("new-secret")).await.0;
            assert!(matches!((first, second), (StatusCode::NO_CONTENT | StatusCode::OK, StatusCode::OK)));
        }
        assert_eq!(work.counts(), (1, 1, 1), "{secrets:?}: one run for both webhooks and both receivers");
    }
}

#[tokio::test]
async fn shutdown_waits_for_running_handlers_and_refuses_new_deliveries() {
    let build = |d: Dispatcher<Arc<Work>>| d.answer_budget(Duration::from_millis(20));
    for (glue, dispatcher, work) in receivers(|| Work::taking(Duration::from_millis(200)), build) {
        assert_eq!(glue.send(delivery()).await.0, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(dispatcher.shutdown(Duration::from_secs(10)).await, Ok(()), "{}", glue.name());
        assert_eq!(work.counts(), (1, 1, 1), "{}: the running handler finished", glue.name());
        let (status, text) = glue.send(signed(&verifier(), PATH, LEAD_UPDATED.replace("789", "790"))).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{}", glue.name());
        assert!(text.contains("shutting down"), "{text}");
        assert_eq!(work.counts().0, 1, "{}: nothing new started", glue.name());
    }
}

#[tokio::test]
async fn shutdown_says_how_many_handlers_outlived_the_grace_period() {
    let work = Work::taking(Duration::from_millis(500));
    let dispatcher = Dispatcher::new(Arc::clone(&work)).answer_budget(Duration::from_millis(10));
    let glue = Glue::Router(router(PATH, verifier(), dispatcher.clone()));
    assert_eq!(glue.send(delivery()).await.0, StatusCode::SERVICE_UNAVAILABLE);
    let late = dispatcher.shutdown(Duration::from_millis(10)).await.expect_err("the handler takes 500 ms");
    assert_eq!(late.still_running(), 1);
    assert!(late.to_string().starts_with("1 handler(s) still running"), "{late}");
}

/// A `MemoryStore` that misbehaves as told: panics when claiming or
/// completing, fails or loses the claim when renewing.
#[derive(Default)]
struct Faulty {
    store: MemoryStore,
    panic_on_claim: bool,
    panic_on_complete: bool,
    renewal: Option<Result<bool, &'static str>>,
}

impl SeenStore for Faulty {
    async fn claim(&self, key: &DeliveryKey) -> Result<Claim, StoreError> {
        assert!(!self.panic_on_claim, "the store's own bug, claiming");
        self.store.claim(key).await
    }
    async fn complete(&self, key: &DeliveryKey) -> Result<(), StoreError> {
        assert!(!self.panic_on_complete, "the store's own bug, completing");
        self.store.complete(key).await
    }
    async fn release(&self, key: &DeliveryKey) -> Result<(), StoreError> {
        self.store.release(key).await
    }
    async fn renew(&self, key: &DeliveryKey) -> Result<bool, StoreError> {
        match self.renewal {
            Some(Ok(extended)) => Ok(extended),
            Some(Err(error)) => Err(StoreError::new(error)),
            None => self.store.renew(key).await,
        }
    }
    fn lease_duration(&self) -> Duration {
        Duration::from_millis(150)
    }
}

/// The status of one delivery to a router over `store`, with a handler
/// taking `delay`.
async fn through(store: Faulty, delay: Duration) -> StatusCode {
    let dispatcher = Dispatcher::new(Work::taking(delay)).seen_store(store);
    let status = router(PATH, verifier(), dispatcher.clone()).oneshot(delivery()).await.expect("infallible").status();
    dispatcher.shutdown(Duration::from_secs(10)).await.expect("nothing left running");
    status
}

#[tokio::test]
async fn a_panicking_store_gets_500_and_is_logged_with_the_type() {
    let logs = support::logs::capture();
    let claiming = Faulty { panic_on_claim: true, ..Faulty::default() };
    assert_eq!(through(claiming, Duration::ZERO).await, StatusCode::INTERNAL_SERVER_ERROR, "on the first poll");
    let completing = Faulty { panic_on_complete: true, ..Faulty::default() };
    assert_eq!(through(completing, Duration::from_millis(50)).await, StatusCode::INTERNAL_SERVER_ERROR, "on its task");
    let text = logs.text();
    let lines: Vec<&str> = text.lines().filter(|line| line.contains("duplicate store panicked")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines.iter().all(|line| line.contains("ERROR") && line.contains("lead.updated")), "{text}");
}

#[tokio::test]
async fn a_renewal_that_fails_or_finds_the_claim_gone_is_logged() {
    let logs = support::logs::capture();
    let failing = Faulty { renewal: Some(Err("connection refused")), ..Faulty::default() };
    assert_eq!(through(failing, Duration::from_millis(400)).await, StatusCode::NO_CONTENT, "the handler went on");
    let lost = Faulty { renewal: Some(Ok(false)), ..Faulty::default() };
    assert_eq!(through(lost, Duration::from_millis(400)).await, StatusCode::NO_CONTENT, "the handler went on");
    let text = logs.text();
    assert!(text.lines().any(|line| line.contains("ERROR") && line.contains("renew")), "{text}");
    assert!(text.lines().any(|line| line.contains("WARN") && line.contains("claim ran out")), "{text}");
}
