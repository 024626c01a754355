//! The replay window through the axum router: stale and future deliveries
//! refused with 403, FoxReach's retries let through, replays never processed.
#![cfg(all(feature = "axum", feature = "delivery", feature = "test-util"))]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use foxreach_webhooks::delivery::{Delivery, Dispatcher, Handled, Handler, MemoryStore, ReplayWindow};
use foxreach_webhooks::event::{LeadCreated, Timestamp};
use foxreach_webhooks::http::FullBody;
use foxreach_webhooks::http::axum::router;
use foxreach_webhooks::http::test_util::{event_json, signed, signed_event};
use foxreach_webhooks::{Event, EventData};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use support::{PATH, verifier};
use tower::ServiceExt;

/// The answer to a delivery the handler processed.
const PROCESSED: StatusCode = StatusCode::NO_CONTENT;

/// Writes down the lead of every `lead.created` it processes.
#[derive(Default)]
struct Leads(Mutex<Vec<String>>);

impl Leads {
    fn new() -> Arc<Self> {
        Arc::default()
    }

    fn calls(&self) -> Vec<String> {
        self.0.lock().expect("not poisoned").clone()
    }
}

impl Handler for Leads {
    async fn lead_created(&self, lead: LeadCreated, _: Delivery<'_>) -> Handled {
        self.0.lock().expect("not poisoned").push(lead.lead_id);
        Ok(())
    }
}

async fn send(app: &Router, request: Request<FullBody>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = response.into_body().collect().await.expect("a body").to_bytes();
    (status, String::from_utf8(body.to_vec()).expect("text"))
}

/// An event `age` before now, as FoxReach stamps it.
fn event_aged(lead: &str, age: time::Duration) -> Event {
    let at = time::OffsetDateTime::now_utc() - age;
    let stamp = at.format(&time::format_description::well_known::Rfc3339).expect("formats");
    Event::new(Timestamp::new(stamp), EventData::LeadCreated(LeadCreated::new(lead)))
}

#[tokio::test]
async fn the_replay_window_refuses_stale_and_future_deliveries_with_403() {
    let recorder = Leads::new();
    let window = ReplayWindow::new(ReplayWindow::COVERS_RETRIES);
    let app = router(PATH, verifier(), Dispatcher::new(Arc::clone(&recorder)).replay_window(window));

    let fresh = event_aged("cld_1", time::Duration::minutes(31));
    assert_eq!(send(&app, signed_event(&verifier(), PATH, &fresh)).await.0, PROCESSED, "a 30-minute retry passes");

    let (status, text) =
        send(&app, signed_event(&verifier(), PATH, &event_aged("cld_2", time::Duration::hours(2)))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(text.contains("outside the replay window of 3600 s"), "{text}");

    let (status, text) =
        send(&app, signed_event(&verifier(), PATH, &event_aged("cld_3", -time::Duration::minutes(5)))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(text.contains("ahead of the receiver's clock"), "{text}");

    let unreadable = Event::new(Timestamp::new("yesterday"), EventData::LeadCreated(LeadCreated::new("cld_4")));
    assert_eq!(send(&app, signed_event(&verifier(), PATH, &unreadable)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(recorder.calls(), ["cld_1"]);
}

#[tokio::test]
async fn a_window_shorter_than_the_retry_schedule_drops_real_retries() {
    // FoxReach's third retry comes 36 minutes after the first attempt, with
    // the original timestamp: a 10-minute window refuses it. This is why
    // the window is off by default and its documentation warns about it.
    let recorder = Leads::new();
    let window = ReplayWindow::new(Duration::from_secs(10 * 60));
    let app = router(PATH, verifier(), Dispatcher::new(Arc::clone(&recorder)).replay_window(window));
    let retry = event_aged("cld_1", time::Duration::minutes(36));
    assert_eq!(send(&app, signed_event(&verifier(), PATH, &retry)).await.0, StatusCode::FORBIDDEN);
    assert!(recorder.calls().is_empty());
}

#[tokio::test]
async fn with_a_ttl_covering_the_window_no_replay_is_ever_processed() {
    let recorder = Leads::new();
    let window = ReplayWindow::new(Duration::from_secs(60 * 60));
    let dispatcher = Dispatcher::new(Arc::clone(&recorder))
        .seen_store(MemoryStore::new().ttl(Duration::from_secs(60 * 60)))
        .replay_window(window);
    let app = router(PATH, verifier(), dispatcher);

    let event = event_aged("cld_1", time::Duration::minutes(1));
    let captured = event_json(&event);
    assert_eq!(send(&app, signed(&verifier(), PATH, captured.clone())).await.0, PROCESSED);
    // An attacker replays the captured request inside the window: a duplicate.
    let (status, text) = send(&app, signed(&verifier(), PATH, captured)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.starts_with("duplicate"), "{text}");
    // Outside the window (the TTL may have expired by then): stale.
    let old = event_aged("cld_1", time::Duration::minutes(61));
    assert_eq!(send(&app, signed_event(&verifier(), PATH, &old)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(recorder.calls().len(), 1);
}
