//! Each delivery's handler runs inside a `foxreach.delivery` span, so that
//! the application's own logs nest in it: in the request and on an inbox's
//! workers.
#![cfg(all(feature = "axum", feature = "delivery", feature = "test-util"))]

mod support;

use foxreach_inbox::{SqliteInbox, Workers};
use foxreach_webhooks::delivery::{Delivery, Dispatcher, Handled, Handler};
use foxreach_webhooks::event::LeadUpdated;
use foxreach_webhooks::http::axum::router;
use foxreach_webhooks::http::test_util::signed;
use support::{PATH, logs, verifier};
use tower::ServiceExt;

struct Logging;

impl Handler for Logging {
    async fn lead_updated(&self, _: LeadUpdated, _: Delivery<'_>) -> Handled {
        tracing::info!("the application's own line");
        Ok(())
    }
}

const LEAD: &str = r#"{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{"leadId":"cld_secretive"}}"#;

/// The captured line the handler wrote.
fn handler_line(text: &str) -> String {
    text.lines().find(|line| line.contains("the application's own line")).expect("the handler logged").to_owned()
}

#[tokio::test(flavor = "current_thread")]
async fn in_the_request_the_handlers_logs_nest_in_the_delivery_span() {
    let logs = logs::capture();
    let verifier = verifier();
    let response = router(PATH, verifier.clone(), Dispatcher::new(Logging))
        .oneshot(signed(&verifier, PATH, LEAD))
        .await
        .expect("infallible");
    assert!(response.status().is_success());
    let line = handler_line(&logs.text());
    assert!(line.contains("foxreach.delivery{event_type=\"lead.updated\" key="), "{line}");
    assert!(!line.contains("cld_secretive"), "never the body: {line}");
}

#[tokio::test(flavor = "current_thread")]
async fn on_an_inboxs_workers_the_span_also_names_the_entry_and_the_attempt() {
    let logs = logs::capture();
    let verifier = verifier();
    let inbox = SqliteInbox::in_memory().expect("opens");
    let response =
        router(PATH, verifier.clone(), inbox.clone()).oneshot(signed(&verifier, PATH, LEAD)).await.expect("infallible");
    assert!(response.status().is_success());
    assert_eq!(Workers::new(Logging, inbox).run_once().await.expect("runs"), 1);
    let line = handler_line(&logs.text());
    assert!(line.contains("foxreach.delivery{event_type=\"lead.updated\" key="), "{line}");
    assert!(line.contains(" entry=1 attempt=1}"), "{line}");
    assert!(!line.contains("cld_secretive"), "never the body: {line}");
}
