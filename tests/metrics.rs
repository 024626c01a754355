//! What the receivers record through the `metrics` facade, for each outcome,
//! read back from a test recorder installed for each test's thread alone.
#![cfg(all(feature = "metrics", feature = "axum", feature = "delivery", feature = "test-util"))]

mod support;

use std::time::Duration;

use foxreach_inbox::{SqliteInbox, Workers};
use foxreach_webhooks::delivery::{Delivery, Dispatcher, Handled, Handler, HandlerError, Receive};
use foxreach_webhooks::event::LeadUpdated;
use foxreach_webhooks::http::FullBody;
use foxreach_webhooks::http::axum::router;
use foxreach_webhooks::http::test_util::{signed, tampered};
use http::{Request, StatusCode};
use support::recorder::{expect, recorded, with_recorder};
use support::{PATH, verifier};
use tower::ServiceExt;

/// A lead's id says what its handler does.
struct ByLead;

impl Handler for ByLead {
    async fn lead_updated(&self, lead: LeadUpdated, _: Delivery<'_>) -> Handled {
        match lead.lead_id.as_str() {
            "retry" => Err(HandlerError::retryable("the CRM is down")),
            "refuse" => Err(HandlerError::permanent("no such lead")),
            "panic" => panic!("a bug in the handler"),
            _ => Ok(()),
        }
    }
}

fn lead(id: &str) -> String {
    format!(r#"{{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{{"leadId":"{id}"}}}}"#)
}

async fn send<R: Receive>(receive: R, request: Request<FullBody>) -> StatusCode {
    router(PATH, verifier(), receive).oneshot(request).await.expect("infallible").status()
}

#[test]
fn each_outcome_and_refusal_is_counted_with_bounded_labels() {
    with_recorder(async |snapshotter| {
        let dispatcher = Dispatcher::new(ByLead);
        let verifier = verifier();
        assert!(send(dispatcher.clone(), signed(&verifier, PATH, lead("ok"))).await.is_success());
        assert!(send(dispatcher.clone(), signed(&verifier, PATH, lead("ok"))).await.is_success());
        let handled = recorded(&snapshotter);
        assert_eq!(
            handled,
            expect(&[
                ("foxreach_webhooks_deliveries_total{event_type=lead.updated,outcome=processed}", 1),
                ("foxreach_webhooks_deliveries_total{event_type=lead.updated,outcome=duplicate}", 1),
                ("foxreach_webhooks_handler_duration_seconds{event_type=lead.updated,result=success}", 1),
            ])
        );

        send(dispatcher.clone(), signed(&verifier, PATH, lead("retry"))).await;
        send(dispatcher.clone(), signed(&verifier, PATH, lead("refuse"))).await;
        send(dispatcher.clone(), signed(&verifier, PATH, lead("panic"))).await;
        send(dispatcher.clone(), signed(&verifier, PATH, r#"{"event":"lead.merged","timestamp":1,"data":{}}"#)).await;
        assert_eq!(
            recorded(&snapshotter),
            expect(&[
                ("foxreach_webhooks_deliveries_total{event_type=lead.updated,outcome=failed_retryable}", 1),
                ("foxreach_webhooks_deliveries_total{event_type=lead.updated,outcome=failed_permanent}", 1),
                ("foxreach_webhooks_deliveries_total{event_type=lead.updated,outcome=panicked}", 1),
                ("foxreach_webhooks_deliveries_total{event_type=unknown,outcome=processed}", 1),
                ("foxreach_webhooks_handler_duration_seconds{event_type=lead.updated,result=retryable_failure}", 1),
                ("foxreach_webhooks_handler_duration_seconds{event_type=lead.updated,result=permanent_failure}", 1),
                ("foxreach_webhooks_handler_duration_seconds{event_type=lead.updated,result=panic}", 1),
                ("foxreach_webhooks_handler_duration_seconds{event_type=unknown,result=success}", 1),
                ("foxreach_webhooks_handler_failures_total{event_type=lead.updated,kind=retryable}", 1),
                ("foxreach_webhooks_handler_failures_total{event_type=lead.updated,kind=permanent}", 1),
                ("foxreach_webhooks_handler_failures_total{event_type=lead.updated,kind=panic}", 1),
            ]),
            "an unknown event type is `unknown`, never its own name"
        );

        let mut missing = signed(&verifier, PATH, lead("ok"));
        missing.headers_mut().remove(foxreach_webhooks::SIGNATURE_HEADER);
        let mut malformed = signed(&verifier, PATH, lead("ok"));
        malformed.headers_mut().insert(foxreach_webhooks::SIGNATURE_HEADER, "sha256=abc".parse().expect("a value"));
        assert_eq!(send(dispatcher.clone(), missing).await, StatusCode::UNAUTHORIZED);
        assert_eq!(send(dispatcher.clone(), malformed).await, StatusCode::UNAUTHORIZED);
        assert_eq!(send(dispatcher.clone(), tampered(&verifier, PATH, lead("ok"))).await, StatusCode::UNAUTHORIZED);
        assert_eq!(send(dispatcher.clone(), signed(&verifier, PATH, "{not json")).await, StatusCode::BAD_REQUEST);
        assert_eq!(
            send(dispatcher.clone(), signed(&verifier, PATH, r#"{"no":"event"}"#)).await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let stale = Dispatcher::new(ByLead)
            .replay_window(foxreach_webhooks::delivery::ReplayWindow::new(Duration::from_secs(300)));
        send(stale, signed(&verifier, PATH, lead("old"))).await;
        assert_eq!(
            recorded(&snapshotter),
            expect(&[
                ("foxreach_webhooks_refusals_total{reason=missing_signature}", 1),
                ("foxreach_webhooks_refusals_total{reason=malformed_signature}", 1),
                ("foxreach_webhooks_refusals_total{reason=signature_mismatch}", 1),
                ("foxreach_webhooks_refusals_total{reason=not_json}", 1),
                ("foxreach_webhooks_refusals_total{reason=not_an_event}", 1),
                ("foxreach_webhooks_refusals_total{reason=stale}", 1),
                ("foxreach_webhooks_deliveries_total{event_type=lead.updated,outcome=stale}", 1),
            ])
        );
    });
}

#[test]
fn an_inbox_counts_what_it_keeps_and_its_workers_count_retries_and_dead_letters() {
    with_recorder(async |snapshotter| {
        let inbox = SqliteInbox::in_memory().expect("opens");
        let verifier = verifier();
        for id in ["ok", "retry", "refuse"] {
            assert_eq!(send(inbox.clone(), signed(&verifier, PATH, lead(id))).await, StatusCode::ACCEPTED);
        }
        assert_eq!(send(inbox.clone(), signed(&verifier, PATH, lead("ok"))).await, StatusCode::OK);
        assert_eq!(send(inbox.clone(), signed(&verifier, PATH, "{not json")).await, StatusCode::ACCEPTED);
        assert_eq!(
            recorded(&snapshotter),
            expect(&[
                ("foxreach_webhooks_deliveries_total{event_type=lead.updated,outcome=kept}", 3),
                ("foxreach_webhooks_deliveries_total{event_type=lead.updated,outcome=duplicate}", 1),
                ("foxreach_webhooks_deliveries_total{event_type=unknown,outcome=kept}", 1),
            ])
        );
        let workers = Workers::new(ByLead, inbox.clone());
        assert_eq!(workers.run_once().await.expect("runs"), 4);
        assert_eq!(
            recorded(&snapshotter),
            expect(&[
                ("foxreach_webhooks_handler_duration_seconds{event_type=lead.updated,result=success}", 1),
                ("foxreach_webhooks_handler_duration_seconds{event_type=lead.updated,result=retryable_failure}", 1),
                ("foxreach_webhooks_handler_duration_seconds{event_type=lead.updated,result=permanent_failure}", 1),
                ("foxreach_webhooks_handler_failures_total{event_type=lead.updated,kind=retryable}", 1),
                ("foxreach_webhooks_handler_failures_total{event_type=lead.updated,kind=permanent}", 1),
                ("foxreach_webhooks_inbox_retries_total{event_type=lead.updated}", 1),
                ("foxreach_webhooks_inbox_dead_letters_total{event_type=lead.updated,reason=permanent_failure}", 1),
                ("foxreach_webhooks_inbox_dead_letters_total{event_type=unknown,reason=not_an_event}", 1),
            ])
        );
    });
}
