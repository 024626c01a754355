//! What a receiver of several webhooks records: no tenant until the
//! application opts in, then a `tenant` label on its deliveries and
//! handlers (never on refusals); and the inbox's gauges. A test binary of
//! its own, because `label_tenants` is process-wide.
#![cfg(all(feature = "metrics", feature = "axum", feature = "delivery", feature = "test-util"))]

mod support;

use std::collections::HashMap;
use std::time::Duration;

use foxreach_inbox::{Backlog, Inbox, SqliteInbox, Workers};
use foxreach_webhooks::delivery::{Delivery, Dispatcher, Handled, Handler, Receive};
use foxreach_webhooks::http::FullBody;
use foxreach_webhooks::http::axum::tenant_router;
use foxreach_webhooks::observe;
use foxreach_webhooks::tenant::Tenant;
use foxreach_webhooks::{SIGNATURE_HEADER, Verifier, sign};
use http::{Request, StatusCode};
use support::recorder::{expect, gauges, recorded, with_recorder};
use tower::ServiceExt;

const LEAD: &str = r#"{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{"leadId":"cld_1"}}"#;

struct Accept;
impl Handler for Accept {}

/// Logs a line of the application's own, inside the delivery's span.
struct Logging;
impl Handler for Logging {
    async fn lead_updated(&self, _: foxreach_webhooks::event::LeadUpdated, _: Delivery<'_>) -> Handled {
        tracing::info!("the application's own line");
        Ok(())
    }
}

/// The span around the handler's line, as the captured log shows it.
async fn span_of_a_delivery() -> String {
    let logs = support::logs::capture();
    assert_eq!(send(Dispatcher::new(Logging), "acme", "acme").await, StatusCode::NO_CONTENT);
    let text = logs.text();
    text.lines().find(|line| line.contains("the application's own line")).expect("the handler logged").to_owned()
}

async fn send<R: Receive>(receiver: R, tenant: &str, secret: &str) -> StatusCode {
    let secrets =
        HashMap::from([("acme".parse::<Tenant>().expect("a name"), Verifier::new("acme").expect("a secret"))]);
    let request = Request::post(format!("/webhooks/foxreach/{tenant}"))
        .header(SIGNATURE_HEADER, sign(secret, LEAD.as_bytes()))
        .body(FullBody::new(LEAD))
        .expect("a request");
    let router = tenant_router("/webhooks/foxreach/{tenant}", secrets, receiver);
    router.oneshot(request).await.expect("infallible").status()
}

#[test]
fn tenants_are_labelled_only_once_asked_and_never_on_refusals() {
    with_recorder(async |snapshotter| {
        assert_eq!(send(Dispatcher::new(Accept), "acme", "acme").await, StatusCode::NO_CONTENT);
        assert_eq!(send(Dispatcher::new(Accept), "umbrella", "acme").await, StatusCode::NOT_FOUND);
        assert_eq!(
            recorded(&snapshotter),
            expect(&[
                ("foxreach_webhooks_deliveries_total{event_type=lead.updated,outcome=processed}", 1),
                ("foxreach_webhooks_handler_duration_seconds{event_type=lead.updated,result=success}", 1),
                ("foxreach_webhooks_refusals_total{reason=unknown_tenant}", 1),
            ]),
            "no tenant by default"
        );

        let span = span_of_a_delivery().await;
        assert!(
            span.contains("foxreach.delivery{event_type=\"lead.updated\" key=") && !span.contains("tenant="),
            "{span}"
        );
        recorded(&snapshotter);

        observe::label_tenants(true);
        let span = span_of_a_delivery().await;
        assert!(span.contains(" tenant=acme"), "{span}");
        recorded(&snapshotter);
        assert_eq!(send(Dispatcher::new(Accept), "acme", "acme").await, StatusCode::NO_CONTENT);
        assert_eq!(send(Dispatcher::new(Accept), "umbrella", "acme").await, StatusCode::NOT_FOUND);
        assert_eq!(send(Dispatcher::new(Accept), "acme", "forged").await, StatusCode::UNAUTHORIZED);
        observe::label_tenants(false);
        assert_eq!(
            recorded(&snapshotter),
            expect(&[
                ("foxreach_webhooks_deliveries_total{event_type=lead.updated,outcome=processed,tenant=acme}", 1),
                ("foxreach_webhooks_handler_duration_seconds{event_type=lead.updated,result=success,tenant=acme}", 1),
                ("foxreach_webhooks_refusals_total{reason=signature_mismatch}", 1),
                ("foxreach_webhooks_refusals_total{reason=unknown_tenant}", 1),
            ]),
            "a tenant once asked, and none on refusals (their tenant is the sender's word)"
        );
    });
}

#[test]
fn the_workers_set_the_inbox_gauges() {
    with_recorder(async |snapshotter| {
        let folder = std::env::temp_dir().join(format!("foxreach-tenant-metrics-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).expect("a folder");
        let inbox = SqliteInbox::open(folder.join("inbox.sqlite3")).expect("opens");
        assert_eq!(send(inbox.clone(), "acme", "acme").await, StatusCode::ACCEPTED);
        tokio::time::sleep(Duration::from_millis(1_100)).await;

        // The workers set the gauges as they start (the entry still
        // pending), then every 15 seconds. Reading a gauge here resets it
        // to 0, so each value read was written since the last read.
        let workers = Workers::new(Accept, inbox.clone());
        workers.run(tokio::time::sleep(Duration::from_millis(500)), Duration::from_secs(1)).await;
        let first = gauges(&snapshotter);
        assert_eq!(first["foxreach_webhooks_inbox_entries{state=pending}"], 1.0);
        assert_eq!(first["foxreach_webhooks_inbox_entries{state=dead}"], 0.0);
        let age = first["foxreach_webhooks_inbox_oldest_open_age_seconds{}"];
        assert!((1.0..60.0).contains(&age), "waited about a second: {age}");
        assert_eq!(inbox.backlog().await.expect("a backlog").pending, 0, "processed");

        // Values the workers must overwrite: nothing is open any more.
        let mut stale = Backlog::default();
        (stale.pending, stale.oldest_open) = (7, Some(std::time::SystemTime::now() - Duration::from_secs(9)));
        stale.record();
        let workers = Workers::new(Accept, inbox.clone());
        workers.run(tokio::time::sleep(Duration::from_millis(100)), Duration::from_secs(1)).await;
        let after = gauges(&snapshotter);
        assert_eq!(after["foxreach_webhooks_inbox_entries{state=pending}"], 0.0);
        assert_eq!(after["foxreach_webhooks_inbox_oldest_open_age_seconds{}"], 0.0);
        drop((workers, inbox));
        std::fs::remove_dir_all(&folder).expect("cleans up");
    });
}
