//! Dispatch and duplicate suppression, through the
//! one-call axum router and tower receiver.
#![cfg(all(feature = "axum", feature = "delivery", feature = "test-util"))]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use foxreach_webhooks::delivery::{
    Claim, Delivery, DeliveryKey, Dispatcher, Handled, Handler, HandlerError, MemoryStore, SeenStore, StoreError,
};
use foxreach_webhooks::event::{
    CampaignCompleted, CampaignPaused, CampaignStarted, EmailBounced, EmailFailed, EmailOpened, EmailSent, LeadCreated,
    LeadUpdated, ReplyCategorized, ReplyReceived, Timestamp, UnknownEvent,
};
use foxreach_webhooks::http::FullBody;
use foxreach_webhooks::http::axum::router;
use foxreach_webhooks::http::test_util::{event_json, signed, signed_event, tampered};
use foxreach_webhooks::http::tower::{VerifySignatureLayer, receiver};
use foxreach_webhooks::{Event, EventData};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use support::{PATH, fixtures, verifier};
use tower::ServiceExt;

/// The answer to a delivery the handler processed; a duplicate gets `200 OK`.
const PROCESSED: StatusCode = StatusCode::NO_CONTENT;

/// What the handler does with the next deliveries.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Behaviour {
    Succeed,
    FailRetryably,
    FailPermanently,
}

/// Records every call as "method id", and behaves as told.
struct Recorder {
    calls: Mutex<Vec<String>>,
    behaviour: Mutex<Behaviour>,
    delay: Duration,
    running: AtomicUsize,
}

impl Recorder {
    fn new() -> Arc<Self> {
        Self::slow(Duration::ZERO)
    }

    fn slow(delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            calls: Mutex::default(),
            behaviour: Mutex::new(Behaviour::Succeed),
            delay,
            running: AtomicUsize::new(0),
        })
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("not poisoned").clone()
    }

    fn behave(&self, behaviour: Behaviour) {
        *self.behaviour.lock().expect("not poisoned") = behaviour;
    }

    async fn record(&self, call: String, delivery: Delivery<'_>) -> Handled {
        let signed = DeliveryKey::from_signature(&verifier().sign(delivery.body));
        assert_eq!(Some(delivery.key), signed, "the body and its key are passed on");
        assert_eq!(self.running.fetch_add(1, Ordering::SeqCst), 0, "never two copies at once");
        tokio::time::sleep(self.delay).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.calls.lock().expect("not poisoned").push(call);
        match *self.behaviour.lock().expect("not poisoned") {
            Behaviour::Succeed => Ok(()),
            Behaviour::FailRetryably => Err(HandlerError::retryable("database unavailable")),
            Behaviour::FailPermanently => Err(HandlerError::permanent("lead refused")),
        }
    }
}

/// Handed to the dispatcher as an `Arc` (which is a handler too), so that
/// the test keeps a handle on what was recorded.
impl Handler for Recorder {
    async fn email_sent(&self, data: EmailSent, delivery: Delivery<'_>) -> Handled {
        self.record(format!("email_sent {}", data.email_log_id), delivery).await
    }
    async fn email_failed(&self, data: EmailFailed, delivery: Delivery<'_>) -> Handled {
        self.record(format!("email_failed {}", data.email_log_id), delivery).await
    }
    async fn email_bounced(&self, data: EmailBounced, delivery: Delivery<'_>) -> Handled {
        self.record(format!("email_bounced {}", data.email_log_id), delivery).await
    }
    async fn email_opened(&self, data: EmailOpened, delivery: Delivery<'_>) -> Handled {
        self.record(format!("email_opened {}", data.email_log_id), delivery).await
    }
    async fn reply_received(&self, data: ReplyReceived, delivery: Delivery<'_>) -> Handled {
        self.record(format!("reply_received {}", data.reply_id), delivery).await
    }
    async fn reply_categorized(&self, data: ReplyCategorized, delivery: Delivery<'_>) -> Handled {
        self.record(format!("reply_categorized {}", data.reply_id), delivery).await
    }
    async fn campaign_started(&self, data: CampaignStarted, delivery: Delivery<'_>) -> Handled {
        self.record(format!("campaign_started {}", data.campaign_id), delivery).await
    }
    async fn campaign_paused(&self, data: CampaignPaused, delivery: Delivery<'_>) -> Handled {
        self.record(format!("campaign_paused {}", data.campaign_id), delivery).await
    }
    async fn campaign_completed(&self, data: CampaignCompleted, delivery: Delivery<'_>) -> Handled {
        self.record(format!("campaign_completed {}", data.campaign_id), delivery).await
    }
    async fn lead_created(&self, data: LeadCreated, delivery: Delivery<'_>) -> Handled {
        self.record(format!("lead_created {}", data.lead_id), delivery).await
    }
    async fn lead_updated(&self, data: LeadUpdated, delivery: Delivery<'_>) -> Handled {
        self.record(format!("lead_updated {}", data.lead_id), delivery).await
    }
    async fn unknown(&self, event: UnknownEvent, delivery: Delivery<'_>) -> Handled {
        self.record(format!("unknown {}", event.event), delivery).await
    }
}

fn app(recorder: &Arc<Recorder>) -> Router {
    router(PATH, verifier(), Dispatcher::new(Arc::clone(recorder)))
}

async fn send(app: &Router, request: Request<FullBody>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = response.into_body().collect().await.expect("a body").to_bytes();
    (status, String::from_utf8(body.to_vec()).expect("text"))
}

fn lead_created(lead: &str) -> Event {
    Event::new(Timestamp::new("2025-01-14T08:00:00Z"), EventData::LeadCreated(LeadCreated::new(lead)))
}

#[tokio::test]
async fn every_event_type_reaches_its_own_method() {
    let recorder = Recorder::new();
    let app = app(&recorder);
    for (name, body) in fixtures() {
        let (status, text) = send(&app, signed(&verifier(), PATH, body)).await;
        assert_eq!((status, text.as_str()), (PROCESSED, ""), "{name}");
    }
    let unknown = br#"{"event":"meeting.booked","timestamp":"2025-03-01T12:00:00Z","data":{"meetingId":"mtg_1"}}"#;
    assert_eq!(send(&app, signed(&verifier(), PATH, &unknown[..])).await.0, PROCESSED);

    let methods: Vec<String> =
        recorder.calls().iter().map(|call| call.split(' ').next().unwrap_or_default().to_owned()).collect();
    let expected: Vec<String> =
        fixtures().iter().map(|(name, _)| name.replace('.', "_")).chain(["unknown".to_owned()]).collect();
    assert_eq!(methods, expected);
    assert_eq!(recorder.calls().last().map(String::as_str), Some("unknown meeting.booked"));
}

#[tokio::test]
async fn a_default_handler_accepts_and_ignores() {
    struct Nothing;
    impl Handler for Nothing {}
    let app = router(PATH, verifier(), Dispatcher::new(Nothing));
    for (name, body) in fixtures() {
        assert_eq!(send(&app, signed(&verifier(), PATH, body)).await.0, PROCESSED, "{name}");
    }
}

#[tokio::test]
async fn refusals_happen_before_any_handler_runs() {
    let recorder = Recorder::new();
    let app = app(&recorder);
    let body = event_json(&lead_created("cld_1"));
    assert_eq!(send(&app, tampered(&verifier(), PATH, body.clone())).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&app, signed(&verifier(), PATH, "{not json")).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        send(&app, signed(&verifier(), PATH, r#"{"type":"lead.created"}"#)).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let get = Request::get(PATH).body(FullBody::default()).expect("a request");
    assert_eq!(send(&app, get).await.0, StatusCode::METHOD_NOT_ALLOWED);
    assert!(recorder.calls().is_empty());
}

#[tokio::test]
async fn a_duplicate_of_a_processed_delivery_is_acknowledged_without_running_again() {
    let recorder = Recorder::new();
    let app = app(&recorder);
    let event = lead_created("cld_1");
    assert_eq!(send(&app, signed_event(&verifier(), PATH, &event)).await.0, PROCESSED);
    let (status, text) = send(&app, signed_event(&verifier(), PATH, &event)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.starts_with("duplicate"), "{text}");
    assert_eq!(recorder.calls(), ["lead_created cld_1"]);

    // The same event in other bytes is another delivery, with another signature.
    let pretty = serde_json::to_vec_pretty(&event).expect("JSON");
    assert_ne!(pretty, event_json(&event));
    assert_eq!(send(&app, signed(&verifier(), PATH, pretty)).await.0, PROCESSED);
    assert_eq!(recorder.calls().len(), 2);
}

#[tokio::test]
async fn a_retryable_failure_answers_500_and_its_retry_is_processed() {
    let recorder = Recorder::new();
    let app = app(&recorder);
    let event = lead_created("cld_1");
    recorder.behave(Behaviour::FailRetryably);
    let (status, text) = send(&app, signed_event(&verifier(), PATH, &event)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!text.contains("database"), "the handler's error stays in the logs: {text}");

    recorder.behave(Behaviour::Succeed);
    assert_eq!(send(&app, signed_event(&verifier(), PATH, &event)).await.0, PROCESSED);
    assert_eq!(send(&app, signed_event(&verifier(), PATH, &event)).await.0, StatusCode::OK);
    assert_eq!(recorder.calls().len(), 2, "the failure and the retry ran; the duplicate did not");
}

#[tokio::test]
async fn a_permanent_failure_is_acknowledged_logged_and_not_run_again() {
    let logs = support::logs::capture();
    let recorder = Recorder::new();
    let app = app(&recorder);
    let event = lead_created("cld_1");
    recorder.behave(Behaviour::FailPermanently);
    let (status, text) = send(&app, signed_event(&verifier(), PATH, &event)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("failed permanently"), "{text}");
    assert_eq!(send(&app, signed_event(&verifier(), PATH, &event)).await.0, StatusCode::OK);
    assert_eq!(recorder.calls().len(), 1);
    let logged = logs.text();
    assert!(logged.contains("ERROR") && logged.contains("lead refused"), "{logged}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates_run_the_handler_exactly_once() {
    let recorder = Recorder::slow(Duration::from_millis(200));
    let app = app(&recorder);
    let body = Bytes::from(event_json(&lead_created("cld_1")));
    let copies: Vec<_> = (0..100)
        .map(|_| {
            let (app, body) = (app.clone(), body.clone());
            tokio::spawn(async move { send(&app, signed(&verifier(), PATH, body)).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for copy in copies {
        statuses.push(copy.await.expect("no panic"));
    }
    assert_eq!(recorder.calls(), ["lead_created cld_1"]);
    assert_eq!(statuses.iter().filter(|&&status| status == PROCESSED).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|&status| status == PROCESSED || status == StatusCode::CONFLICT));

    // Once the first is done, FoxReach's retry of a refused copy is acknowledged.
    assert_eq!(send(&app, signed(&verifier(), PATH, body)).await.0, StatusCode::OK);
    assert_eq!(recorder.calls().len(), 1);
}

#[tokio::test]
async fn a_copy_in_progress_gets_409_with_retry_after() {
    let recorder = Recorder::slow(Duration::from_millis(300));
    let app = app(&recorder);
    let body = Bytes::from(event_json(&lead_created("cld_1")));
    let first = tokio::spawn({
        let (app, body) = (app.clone(), body.clone());
        async move { send(&app, signed(&verifier(), PATH, body)).await.0 }
    });
    // Wait until the first copy's handler runs, then send the second.
    while recorder.running.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let response = app.clone().oneshot(signed(&verifier(), PATH, body)).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(response.headers().get(header::RETRY_AFTER).map(|value| value.as_bytes()), Some(&b"60"[..]));
    assert_eq!(first.await.expect("no panic"), PROCESSED);
}

#[tokio::test]
async fn a_delivery_is_processed_again_once_its_ttl_expired() {
    let recorder = Recorder::new();
    let store = MemoryStore::new().ttl(Duration::from_millis(300));
    let app = router(PATH, verifier(), Dispatcher::new(Arc::clone(&recorder)).seen_store(store));
    let event = lead_created("cld_1");
    send(&app, signed_event(&verifier(), PATH, &event)).await;
    send(&app, signed_event(&verifier(), PATH, &event)).await;
    assert_eq!(recorder.calls().len(), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    send(&app, signed_event(&verifier(), PATH, &event)).await;
    assert_eq!(recorder.calls().len(), 2);
}

/// A store that is down, as Redis can be.
struct Down;

impl SeenStore for Down {
    async fn claim(&self, _: &DeliveryKey) -> Result<Claim, StoreError> {
        Err(StoreError::new("connection refused"))
    }
    async fn complete(&self, _: &DeliveryKey) -> Result<(), StoreError> {
        Err(StoreError::new("connection refused"))
    }
    async fn release(&self, _: &DeliveryKey) -> Result<(), StoreError> {
        Err(StoreError::new("connection refused"))
    }
    async fn renew(&self, _: &DeliveryKey) -> Result<bool, StoreError> {
        Err(StoreError::new("connection refused"))
    }
    fn lease_duration(&self) -> Duration {
        foxreach_webhooks::delivery::DEFAULT_LEASE
    }
}

#[tokio::test]
async fn a_store_that_is_down_gets_503_and_runs_nothing() {
    let recorder = Recorder::new();
    let app = router(PATH, verifier(), Dispatcher::new(Arc::clone(&recorder)).seen_store(Down));
    let response = app.oneshot(signed_event(&verifier(), PATH, &lead_created("cld_1"))).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    assert!(recorder.calls().is_empty());
}

/// A `MemoryStore` that writes down what it is asked, in order.
#[derive(Default)]
struct Watched {
    store: MemoryStore,
    asked: Mutex<Vec<(&'static str, DeliveryKey)>>,
}

impl Watched {
    fn note(&self, what: &'static str, key: &DeliveryKey) {
        self.asked.lock().expect("not poisoned").push((what, *key));
    }

    fn asked(&self) -> Vec<&'static str> {
        self.asked.lock().expect("not poisoned").iter().map(|(what, _)| *what).collect()
    }
}

impl SeenStore for Watched {
    async fn claim(&self, key: &DeliveryKey) -> Result<Claim, StoreError> {
        self.note("claim", key);
        self.store.claim(key).await
    }
    async fn complete(&self, key: &DeliveryKey) -> Result<(), StoreError> {
        self.note("complete", key);
        self.store.complete(key).await
    }
    async fn release(&self, key: &DeliveryKey) -> Result<(), StoreError> {
        self.note("release", key);
        self.store.release(key).await
    }
    async fn renew(&self, key: &DeliveryKey) -> Result<bool, StoreError> {
        self.note("renew", key);
        self.store.renew(key).await
    }
    fn lease_duration(&self) -> Duration {
        self.store.lease_duration()
    }
}

#[tokio::test]
async fn the_store_hears_of_verified_deliveries_only_by_one_key() {
    let event = lead_created("cld_1");
    let router_store = Arc::new(Watched::default());
    let app = router(PATH, verifier(), Dispatcher::new(Recorder::new()).seen_store(Arc::clone(&router_store)));
    assert_eq!(send(&app, signed_event(&verifier(), PATH, &event)).await.0, PROCESSED);
    assert_eq!(send(&app, tampered(&verifier(), PATH, event_json(&event))).await.0, StatusCode::UNAUTHORIZED);

    let tower_store = Arc::new(Watched::default());
    let service = receiver(verifier(), Dispatcher::new(Recorder::new()).seen_store(Arc::clone(&tower_store)));
    let response = service.clone().oneshot(signed_event(&verifier(), "/", &event)).await.expect("infallible");
    assert_eq!(response.status(), PROCESSED);
    let response = service.oneshot(tampered(&verifier(), "/", event_json(&event))).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    for store in [router_store, tower_store] {
        assert_eq!(store.asked(), ["claim", "complete"]);
        let asked = store.asked.lock().expect("not poisoned");
        let mac = DeliveryKey::from_signature(&verifier().sign(&event_json(&event)));
        assert!(asked.iter().all(|(_, key)| Some(*key) == mac), "one key throughout, the verified MAC");
    }
}

#[tokio::test]
async fn the_router_behind_the_layer_dispatches_what_the_layer_verified() {
    for parse in [false, true] {
        let recorder = Recorder::new();
        let layer = VerifySignatureLayer::new(verifier()).parse_events(parse);
        let app = app(&recorder).layer(layer);
        let event = lead_created("cld_1");
        assert_eq!(send(&app, signed_event(&verifier(), PATH, &event)).await.0, PROCESSED, "parse {parse}");
        assert_eq!(send(&app, signed_event(&verifier(), PATH, &event)).await.0, StatusCode::OK, "parse {parse}");
        assert_eq!(send(&app, tampered(&verifier(), PATH, event_json(&event))).await.0, StatusCode::UNAUTHORIZED);
        // The recorder checked that the body and its key were handed on.
        assert_eq!(recorder.calls(), ["lead_created cld_1"], "parse {parse}");
    }
}

#[tokio::test]
async fn the_tower_receiver_serves_without_axum_routing() {
    let recorder = Recorder::new();
    let service = receiver(verifier(), Dispatcher::new(Arc::clone(&recorder)));
    let response =
        service.clone().oneshot(signed_event(&verifier(), "/", &lead_created("cld_1"))).await.expect("infallible");
    assert_eq!(response.status(), PROCESSED);
    let response =
        service.clone().oneshot(signed_event(&verifier(), "/", &lead_created("cld_1"))).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK, "a duplicate, known by the MAC the layer kept");
    let response = service.oneshot(tampered(&verifier(), "/", "{}")).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(recorder.calls(), ["lead_created cld_1"]);
}
