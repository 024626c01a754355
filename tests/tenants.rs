//! Several FoxReach webhooks in one receiver, through both receivers this
//! crate builds (the axum router and the tower receiver), with the
//! in-process dispatcher and with the inbox: each tenant's own secret, one
//! tenant's deliveries kept apart from another's, rotation within a tenant,
//! unknown tenants and failing resolvers, and the resolver cache's bound.
#![cfg(all(feature = "axum", feature = "delivery", feature = "test-util"))]

mod support;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use foxreach_inbox::{Inbox, SqliteInbox, Workers};
use foxreach_webhooks::delivery::{Delivery, Dispatcher, Handled, Handler, Receive};
use foxreach_webhooks::event::LeadUpdated;
use foxreach_webhooks::http::FullBody;
use foxreach_webhooks::http::axum::tenant_router;
use foxreach_webhooks::http::test_util::signed;
use foxreach_webhooks::http::tower::tenant_receiver;
use foxreach_webhooks::tenant::{SecretResolver, Tenant, from_fn};
use foxreach_webhooks::{SIGNATURE_HEADER, Verifier, sign};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use support::resolvers::{VaultDown, counting, tenant};
use tower::ServiceExt;

const ROUTE: &str = "/webhooks/foxreach/{tenant}";

fn lead(id: &str) -> String {
    format!(r#"{{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{{"leadId":"{id}"}}}}"#)
}

fn url(tenant: &str) -> String {
    format!("/webhooks/foxreach/{tenant}")
}

/// Each tenant's secret; `shared` gives both tenants one secret.
fn secrets(shared: bool) -> HashMap<Tenant, Verifier> {
    let globex = if shared { "acme-secret" } else { "globex-secret" };
    HashMap::from([
        (tenant("acme"), Verifier::new("acme-secret").expect("a secret")),
        (tenant("globex"), Verifier::new(globex).expect("a secret")),
        (tenant("initech"), Verifier::from_secrets(["initech-old", "initech-new"]).expect("secrets")),
    ])
}

/// Records which tenant each lead came for.
#[derive(Default)]
struct Seen(Mutex<Vec<(Option<String>, String)>>);

impl Handler for Seen {
    async fn lead_updated(&self, lead: LeadUpdated, delivery: Delivery<'_>) -> Handled {
        let tenant = delivery.tenant.map(|tenant| tenant.as_str().to_owned());
        self.0.lock().expect("not poisoned").push((tenant, lead.lead_id.as_str().to_owned()));
        Ok(())
    }
}

impl Seen {
    fn taken(&self) -> Vec<(Option<String>, String)> {
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }
}

/// A request to `tenant`'s URL whose body is signed with `secret`.
fn signed_with(secret: &str, tenant: &str, body: &str) -> Request<FullBody> {
    Request::post(url(tenant))
        .header(SIGNATURE_HEADER, sign(secret, body.as_bytes()))
        .header(header::CONTENT_TYPE, "application/json")
        .body(FullBody::new(body.to_owned()))
        .expect("a request")
}

/// Sends `request` through the router (`true`) or the tower receiver, and
/// returns the status and the body's text.
async fn send<Res: SecretResolver + Clone, R: Receive>(
    through_router: bool,
    resolver: &Res,
    receiver: &R,
    request: Request<FullBody>,
) -> (StatusCode, String) {
    let response = if through_router {
        tenant_router(ROUTE, resolver.clone(), receiver.clone()).oneshot(request).await.expect("infallible")
    } else {
        let service = tenant_receiver(resolver.clone(), receiver.clone());
        service.oneshot(request).await.expect("infallible").map(axum::body::Body::new)
    };
    let status = response.status();
    assert_eq!(response.headers().contains_key(header::RETRY_AFTER), status == StatusCode::SERVICE_UNAVAILABLE);
    let body = response.into_body().collect().await.expect("a body").to_bytes();
    (status, String::from_utf8(body.to_vec()).expect("text"))
}

#[tokio::test]
async fn each_tenant_verifies_with_its_own_secret_and_the_handler_is_told_which() {
    for through_router in [true, false] {
        let resolver = Arc::new(secrets(false));
        let seen = Arc::new(Seen::default());
        let dispatcher = Dispatcher::new(Arc::clone(&seen));
        let acme = send(through_router, &resolver, &dispatcher, signed_with("acme-secret", "acme", &lead("a"))).await;
        assert_eq!(acme.0, StatusCode::NO_CONTENT);
        let globex =
            send(through_router, &resolver, &dispatcher, signed_with("globex-secret", "globex", &lead("g"))).await;
        assert_eq!(globex.0, StatusCode::NO_CONTENT);
        assert_eq!(seen.taken(), [(Some("acme".into()), "a".into()), (Some("globex".into()), "g".into())]);

        // Tenant A's secret on tenant B's URL: refused as any forgery.
        let crossed =
            send(through_router, &resolver, &dispatcher, signed_with("acme-secret", "globex", &lead("x"))).await;
        assert_eq!(crossed.0, StatusCode::UNAUTHORIZED);

        for unknown in ["umbrella", ".hidden", "a%20b", "no-such-tenant"] {
            let (status, body) =
                send(through_router, &resolver, &dispatcher, signed_with("acme-secret", unknown, &lead("u"))).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
            assert!(!body.contains(unknown), "the answer does not repeat the name: {body}");
        }
        assert!(seen.taken().is_empty(), "nothing refused reached the handler");
    }
}

#[tokio::test]
async fn one_tenants_delivery_never_suppresses_anothers_even_with_one_secret() {
    for through_router in [true, false] {
        let resolver = Arc::new(secrets(true));
        let seen = Arc::new(Seen::default());
        let dispatcher = Dispatcher::new(Arc::clone(&seen));
        let body = lead("same");
        for (name, expected) in [("acme", StatusCode::NO_CONTENT), ("globex", StatusCode::NO_CONTENT)] {
            let (status, _) =
                send(through_router, &resolver, &dispatcher, signed_with("acme-secret", name, &body)).await;
            assert_eq!(status, expected, "{name}: the same body, a tenant of its own");
        }
        for name in ["acme", "globex"] {
            let (status, _) =
                send(through_router, &resolver, &dispatcher, signed_with("acme-secret", name, &body)).await;
            assert_eq!(status, StatusCode::OK, "{name}: its own duplicate");
        }
        assert_eq!(seen.taken().len(), 2);
    }
}

#[tokio::test]
async fn a_tenant_being_rotated_takes_both_secrets_and_one_delivery_once() {
    for through_router in [true, false] {
        let resolver = Arc::new(secrets(false));
        let seen = Arc::new(Seen::default());
        let dispatcher = Dispatcher::new(Arc::clone(&seen));
        let body = lead("rotating");
        let old = send(through_router, &resolver, &dispatcher, signed_with("initech-old", "initech", &body)).await;
        assert_eq!(old.0, StatusCode::NO_CONTENT);
        let new = send(through_router, &resolver, &dispatcher, signed_with("initech-new", "initech", &body)).await;
        assert_eq!(new.0, StatusCode::OK, "the copy from the new webhook is a duplicate");
        let other =
            send(through_router, &resolver, &dispatcher, signed_with("initech-new", "initech", &lead("n"))).await;
        assert_eq!(other.0, StatusCode::NO_CONTENT, "signed with the new secret alone");
        assert_eq!(seen.taken().len(), 2);
    }
}

#[tokio::test]
async fn a_failing_resolver_gets_a_retry_and_its_error_is_never_answered() {
    let logs = support::logs::capture();
    let resolver = Arc::new(from_fn(|_: Tenant| async { Err::<Option<Verifier>, _>(VaultDown) }));
    let dispatcher = Dispatcher::new(Arc::new(Seen::default()));
    for through_router in [true, false] {
        let (status, body) =
            send(through_router, &resolver, &dispatcher, signed_with("acme-secret", "acme", &lead("v"))).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "FoxReach retries it");
        assert!(!body.contains("hunter2") && !body.contains("10.0.0.7"), "{body}");
    }
    assert!(logs.text().contains("the secret resolver failed"), "logged for the operator");
}

#[tokio::test]
async fn the_inbox_keeps_each_delivery_with_its_tenant_and_workers_tell_the_handler() {
    let folder = std::env::temp_dir().join(format!("foxreach-tenants-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("a folder");
    let inbox = SqliteInbox::open(folder.join("inbox.sqlite3")).expect("opens");
    let resolver = Arc::new(secrets(true));
    let body = lead("kept");
    for (through_router, name) in [(true, "acme"), (false, "globex")] {
        let (status, _) = send(through_router, &resolver, &inbox, signed_with("acme-secret", name, &body)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{name}");
        let (again, _) = send(!through_router, &resolver, &inbox, signed_with("acme-secret", name, &body)).await;
        assert_eq!(again, StatusCode::OK, "{name}: a duplicate within the tenant");
    }
    let listed = inbox.list(None, None, 10).await.expect("lists");
    let tenants: Vec<_> = listed.iter().map(|entry| entry.tenant.as_ref().map(Tenant::as_str)).collect();
    assert_eq!(tenants, [Some("acme"), Some("globex")]);
    assert_ne!(listed[0].key, listed[1].key, "one body, two tenants, two keys");
    assert_eq!(inbox.backlog().await.expect("a backlog").pending, 2);

    let seen = Arc::new(Seen::default());
    let workers = Workers::new(Arc::clone(&seen), inbox.clone());
    assert_eq!(workers.run_once().await.expect("runs"), 2);
    let mut handled = seen.taken();
    handled.sort();
    assert_eq!(handled, [(Some("acme".into()), "kept".into()), (Some("globex".into()), "kept".into())]);
    let backlog = inbox.backlog().await.expect("a backlog");
    assert_eq!((backlog.pending, backlog.taken, backlog.oldest_open), (0, 0, None));
    drop((workers, inbox));
    std::fs::remove_dir_all(&folder).expect("cleans up");
}

#[test]
#[should_panic(expected = "{tenant}")]
fn a_tenant_router_without_a_tenant_in_its_path_is_a_mistake_found_at_start_up() {
    let _ = tenant_router("/webhooks/foxreach", secrets(false), Dispatcher::new(Arc::new(Seen::default())));
}

#[tokio::test]
async fn the_tower_receiver_reads_the_tenant_where_it_is_told() {
    let resolver = Arc::new(secrets(false));
    let dispatcher = Dispatcher::new(Arc::new(Seen::default()));
    let service = tenant_receiver(resolver, dispatcher).tenant_from(|parts| parts.uri.path().split('/').nth(2));
    let body = lead("elsewhere");
    let request = Request::post("/hooks/acme/foxreach")
        .header(SIGNATURE_HEADER, sign("acme-secret", body.as_bytes()))
        .body(FullBody::new(body.clone()))
        .expect("a request");
    assert_eq!(service.clone().oneshot(request).await.expect("infallible").status(), StatusCode::NO_CONTENT);
    let wrong_place = signed(&Verifier::new("acme-secret").expect("a secret"), "/hooks/foxreach/acme", body);
    assert_eq!(service.oneshot(wrong_place).await.expect("infallible").status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn what_cannot_verify_is_refused_before_any_lookup() {
    let (inner, lookups) = counting(Duration::ZERO);
    let dispatcher = Dispatcher::new(Arc::new(Seen::default()));
    for through_router in [true, false] {
        for name in [".hidden", "a%20b", "acm%65", "%FF", "t-%2e"] {
            let (status, _) = send(through_router, &inner, &dispatcher, signed_with("t-x", name, &lead("p"))).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{name}: a percent-escape never names a tenant");
        }
        let mut unsigned = signed_with("t-x", "t-x", &lead("u"));
        unsigned.headers_mut().remove(SIGNATURE_HEADER);
        assert_eq!(send(through_router, &inner, &dispatcher, unsigned).await.0, StatusCode::UNAUTHORIZED);
        let mut malformed = signed_with("t-x", "t-x", &lead("m"));
        malformed.headers_mut().insert(SIGNATURE_HEADER, "sha256=00".parse().expect("a value"));
        assert_eq!(send(through_router, &inner, &dispatcher, malformed).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 0, "no request above reached the resolver");
}

#[test]
fn a_tenants_key_is_fixed_by_its_name_and_the_delivery() {
    use foxreach_webhooks::delivery::DeliveryKey;
    let key = DeliveryKey::new([7; 32]);
    // Kept keys depend on it: a change would make retries across an upgrade
    // run again. SHA-256 of the label, the name's length (8 bytes, big
    // endian), the name and the key, as `sha256sum` computes it.
    const ACME_KEY: &str = "015071919f4f9dd9ea93e86d298277b7635fd558a47ee67b2f118780b0a98c08";
    assert_eq!(key.for_tenant(&tenant("acme")).to_hex(), ACME_KEY);
    assert_ne!(key.for_tenant(&tenant("acme")), key.for_tenant(&tenant("acme2")));
    assert_ne!(key.for_tenant(&tenant("acme")), key);
}

#[tokio::test]
async fn a_resolver_that_does_not_answer_in_time_gets_a_retry() {
    let (slow, _) = counting(Duration::from_secs(3));
    let dispatcher = Dispatcher::new(Arc::new(Seen::default()));
    let started = std::time::Instant::now();
    let (status, body) = send(true, &slow, &dispatcher, signed_with("t-slow", "t-slow", &lead("s"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(started.elapsed() < Duration::from_secs(3), "cut at RESOLVE_TIMEOUT, not the resolver's 3 s");
    let service = tenant_receiver(slow, dispatcher).resolve_timeout(Duration::from_millis(50));
    let response = service.oneshot(signed_with("t-slow", "t-slow", &lead("s"))).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}
