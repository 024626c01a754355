//! `RedisStore` against a real `redis-server` on 127.0.0.1, which each test
//! starts on a port of its own and stops when done. `.ci/test` installs
//! redis-server (Debian package `redis-server`) if it is missing.
#![cfg(all(feature = "redis", feature = "axum", feature = "test-util"))]

use foxreach_test_support::redis_server;
mod support;

use std::net::TcpListener;

use redis_server::RedisServer;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use foxreach_webhooks::delivery::{
    Claim, Delivery, DeliveryKey, Dispatcher, Handled, Handler, RedisStore, SeenStore, StoreError,
};
use foxreach_webhooks::event::{LeadCreated, Timestamp};
use foxreach_webhooks::http::axum::router;
use foxreach_webhooks::http::test_util::signed_event;
use foxreach_webhooks::{Event, EventData};
use http::StatusCode;
use support::{PATH, verifier};
use tower::ServiceExt;

trait Store {
    async fn store(&self) -> RedisStore;
}

impl Store for RedisServer {
    async fn store(&self) -> RedisStore {
        RedisStore::connect(&self.url()).await.expect("redis-server is up")
    }
}

fn key(n: u8) -> DeliveryKey {
    DeliveryKey::new([n; 32])
}

#[tokio::test]
async fn claims_go_new_then_in_progress_then_done() {
    let server = RedisServer::start();
    let store = server.store().await;
    assert_eq!(store.claim(&key(1)).await.ok(), Some(Claim::New));
    assert_eq!(store.claim(&key(1)).await.ok(), Some(Claim::InProgress));
    store.complete(&key(1)).await.expect("completes");
    assert_eq!(store.claim(&key(1)).await.ok(), Some(Claim::Done));
    store.release(&key(1)).await.expect("a no-op");
    assert_eq!(store.claim(&key(1)).await.ok(), Some(Claim::Done), "release forgets only what is in progress");

    assert_eq!(store.claim(&key(2)).await.ok(), Some(Claim::New));
    store.release(&key(2)).await.expect("releases");
    assert_eq!(store.claim(&key(2)).await.ok(), Some(Claim::New), "a released delivery is processed on retry");
}

#[tokio::test]
async fn marks_expire_in_redis() {
    let server = RedisServer::start();
    let store = server.store().await.ttl(Duration::from_millis(400)).lease(Duration::from_millis(300));
    store.claim(&key(1)).await.expect("claims");
    assert_eq!(store.claim(&key(1)).await.ok(), Some(Claim::InProgress));
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(store.claim(&key(1)).await.ok(), Some(Claim::New), "the lease ran out");
    store.complete(&key(1)).await.expect("completes");
    assert_eq!(store.claim(&key(1)).await.ok(), Some(Claim::Done));
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(store.claim(&key(1)).await.ok(), Some(Claim::New), "the TTL ran out");

    // Every key carries its expiry, so Redis memory is bounded by one TTL of traffic.
    let client = redis::Client::open(server.url()).expect("a URL");
    let mut connection = client.get_multiplexed_async_connection().await.expect("connects");
    // The store's documented key: its prefix, then the delivery key's hex.
    let name = format!("foxreach:delivery:{}", key(1).to_hex());
    let ttl: i64 = redis::cmd("PTTL").arg(name).query_async(&mut connection).await.expect("PTTL");
    assert!(ttl > 0 && ttl <= 300, "pending mark with its lease, got {ttl} ms");
}

#[tokio::test]
async fn renewing_extends_a_pending_mark_and_leaves_a_done_one() {
    let server = RedisServer::start();
    let store = server.store().await.ttl(Duration::from_secs(60 * 60)).lease(Duration::from_millis(300));
    assert_eq!(store.lease_duration(), Duration::from_millis(300));
    store.claim(&key(1)).await.expect("claims");
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(store.renew(&key(1)).await.ok(), Some(true));
    }
    // 600 ms after the claim, twice its lease: still in progress.
    assert_eq!(store.claim(&key(1)).await.ok(), Some(Claim::InProgress));

    store.complete(&key(1)).await.expect("completes");
    assert_eq!(store.renew(&key(1)).await.ok(), Some(false), "done: left as it is");
    let client = redis::Client::open(server.url()).expect("a URL");
    let mut connection = client.get_multiplexed_async_connection().await.expect("connects");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("foxreach:delivery:{}", key(1).to_hex()))
        .query_async(&mut connection)
        .await
        .expect("PTTL");
    assert!(ttl > 300, "a done mark keeps its TTL, got {ttl} ms");
    assert_eq!(store.renew(&key(2)).await.ok(), Some(false), "absent: left absent");
    assert_eq!(store.claim(&key(2)).await.ok(), Some(Claim::New), "renewing does not create a mark");
}

/// Counts the deliveries it processes, slowly enough for copies to overlap.
struct Counter(Arc<AtomicUsize>);

impl Handler for Counter {
    async fn lead_created(&self, _: LeadCreated, _: Delivery<'_>) -> Handled {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receivers_sharing_a_redis_process_concurrent_copies_once() {
    let server = RedisServer::start();
    let processed = Arc::new(AtomicUsize::new(0));
    let mut receivers = Vec::new();
    for _ in 0..3 {
        let dispatcher = Dispatcher::new(Counter(Arc::clone(&processed))).seen_store(server.store().await);
        receivers.push(router(PATH, verifier(), dispatcher));
    }
    let event = Event::new(Timestamp::new("2025-01-14T08:00:00Z"), EventData::LeadCreated(LeadCreated::new("cld_1")));
    let copies: Vec<_> = (0..60)
        .map(|n| {
            let receiver = receivers[n % receivers.len()].clone();
            let request = signed_event(&verifier(), PATH, &event);
            tokio::spawn(async move { receiver.oneshot(request).await.expect("infallible").status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for copy in copies {
        statuses.push(copy.await.expect("no panic"));
    }
    assert_eq!(processed.load(Ordering::SeqCst), 1);
    assert_eq!(statuses.iter().filter(|&&status| status == StatusCode::NO_CONTENT).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|&status| status == StatusCode::NO_CONTENT || status == StatusCode::CONFLICT));
    let again = receivers[1].clone().oneshot(signed_event(&verifier(), PATH, &event)).await.expect("infallible");
    assert_eq!(again.status(), StatusCode::OK, "a later retry is a duplicate, on any receiver");
    assert_eq!(processed.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_redis_that_goes_away_gets_503_and_nothing_runs() {
    let mut server = RedisServer::start();
    let processed = Arc::new(AtomicUsize::new(0));
    let dispatcher = Dispatcher::new(Counter(Arc::clone(&processed))).seen_store(server.store().await);
    let app = router(PATH, verifier(), dispatcher);
    server.child.kill().expect("stops");
    server.child.wait().expect("stopped");
    let event = Event::new(Timestamp::new("2025-01-14T08:00:00Z"), EventData::LeadCreated(LeadCreated::new("cld_1")));
    let started = Instant::now();
    let response = app.oneshot(signed_event(&verifier(), PATH, &event)).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(5), "answered within FoxReach's 5 seconds");
    assert_eq!(processed.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_connection_error_does_not_show_the_password() {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port();
    let error: StoreError =
        RedisStore::connect(&format!("redis://:hunter2@127.0.0.1:{port}/")).await.expect_err("nothing listens there");
    assert!(!format!("{error} {error:?}").contains("hunter2"), "{error:?}");
    let error = RedisStore::connect("redis://:hunter2@[::1/").await.expect_err("not a URL");
    assert!(!format!("{error} {error:?}").contains("hunter2"), "{error:?}");
}
