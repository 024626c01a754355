//! `CachedResolver`: its bound, one lookup for concurrent deliveries,
//! unknown tenants remembered briefly and failures not at all, `forget`
//! against lookups in flight, and a known verifier kept while its refresh
//! fails.
#![cfg(feature = "delivery")]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use foxreach_webhooks::tenant::{CachedResolver, SecretResolver, Tenant, from_fn};
use foxreach_webhooks::{Verifier, sign};
use support::resolvers::{VaultDown, counting, tenant};

fn lead(id: &str) -> String {
    format!(r#"{{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{{"leadId":"{id}"}}}}"#)
}

#[tokio::test]
async fn the_cache_is_bounded_looks_each_tenant_up_once_and_forgets_when_told() {
    let (inner, lookups) = counting(Duration::ZERO);
    let cache = CachedResolver::new(inner, 8);
    for round in 0..3 {
        assert!(cache.resolve(&tenant("t-steady")).await.expect("resolves").is_some());
        assert_eq!(lookups.load(Ordering::SeqCst), 1, "round {round}: cached");
    }
    for i in 0..100 {
        let _ = cache.resolve(&tenant(&format!("t-{i}"))).await;
        assert!(cache.len() <= cache.capacity(), "{} cached, bound {}", cache.len(), cache.capacity());
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 101);

    let rotated = tenant("t-rotated");
    cache.resolve(&rotated).await.expect("resolves");
    cache.resolve(&rotated).await.expect("resolves");
    assert_eq!(lookups.load(Ordering::SeqCst), 102);
    cache.forget(&rotated);
    cache.resolve(&rotated).await.expect("resolves");
    assert_eq!(lookups.load(Ordering::SeqCst), 103, "looked up again once forgotten");
}

#[tokio::test]
async fn unknown_tenants_are_remembered_briefly_and_failures_not_at_all() {
    let (inner, lookups) = counting(Duration::ZERO);
    let cache = CachedResolver::new(inner.clone(), 8);
    for _ in 0..3 {
        assert!(cache.resolve(&tenant("umbrella")).await.expect("resolves").is_none());
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 1, "unknown, remembered for DEFAULT_UNKNOWN_TTL");

    let (inner, lookups) = counting(Duration::ZERO);
    let short = CachedResolver::new(inner, 8).unknown_ttl(Duration::from_millis(50));
    short.resolve(&tenant("umbrella")).await.expect("resolves");
    tokio::time::sleep(Duration::from_millis(80)).await;
    short.resolve(&tenant("umbrella")).await.expect("resolves");
    assert_eq!(lookups.load(Ordering::SeqCst), 2, "looked up again after its time");

    let failures = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&failures);
    let failing = CachedResolver::new(
        from_fn(move |_: Tenant| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Err::<Option<Verifier>, _>(VaultDown) }
        }),
        8,
    );
    for _ in 0..3 {
        assert!(failing.resolve(&tenant("acme")).await.is_err());
    }
    assert_eq!(failures.load(Ordering::SeqCst), 3, "a failure is never cached");
    assert!(failing.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_for_one_tenant_wait_for_one_lookup() {
    let (inner, lookups) = counting(Duration::from_millis(100));
    let cache = Arc::new(CachedResolver::new(inner, 8));
    let lookups_at_once: Vec<_> = (0..16)
        .map(|_| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move { cache.resolve(&tenant("t-busy")).await.expect("resolves").is_some() })
        })
        .collect();
    for lookup in lookups_at_once {
        assert!(lookup.await.expect("no panic"));
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_lookup_running_when_the_tenant_is_forgotten_is_not_cached() {
    let (inner, lookups) = counting(Duration::from_millis(100));
    let cache = Arc::new(CachedResolver::new(inner, 8));
    let running = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move { cache.resolve(&tenant("t-changing")).await })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    cache.forget(&tenant("t-changing"));
    running.await.expect("no panic").expect("resolves");
    cache.resolve(&tenant("t-changing")).await.expect("resolves");
    assert_eq!(lookups.load(Ordering::SeqCst), 2, "the answer from before `forget` was not kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_waiting_on_a_lookup_from_before_forget_gets_the_secret_stored_after_it() {
    // The resolver answers with the secret stored when its lookup began.
    let stored = Arc::new(Mutex::new("old-secret"));
    let reads = Arc::clone(&stored);
    let resolver = from_fn(move |_: Tenant| {
        let secret = *reads.lock().expect("not poisoned");
        async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            Verifier::new(secret).map(Some)
        }
    });
    let cache = Arc::new(CachedResolver::new(resolver, 8));
    let lookup = |cache: &Arc<CachedResolver<_>>| {
        let cache = Arc::clone(cache);
        tokio::spawn(async move { cache.resolve(&tenant("acme")).await.expect("resolves").expect("known") })
    };
    let first = lookup(&cache);
    tokio::time::sleep(Duration::from_millis(30)).await;
    let waiting = lookup(&cache);
    tokio::time::sleep(Duration::from_millis(30)).await;
    *stored.lock().expect("not poisoned") = "new-secret";
    cache.forget(&tenant("acme"));
    first.await.expect("no panic");
    let body = lead("after");
    let verifier = waiting.await.expect("no panic");
    assert!(verifier.verify(body.as_bytes(), sign("new-secret", body.as_bytes())).is_ok(), "not the old secret");
    let cached = cache.resolve(&tenant("acme")).await.expect("resolves").expect("known");
    assert!(cached.verify(body.as_bytes(), sign("new-secret", body.as_bytes())).is_ok());
}

#[tokio::test]
async fn a_known_verifier_outlives_a_failing_refresh_and_a_huge_ttl_still_caches() {
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fails = Arc::clone(&failing);
    let lookups = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&lookups);
    let resolver = from_fn(move |_: Tenant| {
        counted.fetch_add(1, Ordering::SeqCst);
        let fail = fails.load(Ordering::SeqCst);
        async move { if fail { Err(VaultDown) } else { Ok(Some(Verifier::new("acme-secret").expect("a secret"))) } }
    });
    let cache = CachedResolver::new(resolver, 8).time_to_live(Duration::from_millis(50));
    assert!(cache.resolve(&tenant("acme")).await.expect("resolves").is_some());
    failing.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(80)).await;
    let kept = cache.resolve(&tenant("acme")).await.expect("the verifier found before");
    assert!(kept.is_some(), "a vault that is down does not stop a known tenant");
    assert_eq!(lookups.load(Ordering::SeqCst), 2, "it was looked up again");
    assert!(cache.resolve(&tenant("globex")).await.is_err(), "an unknown one still fails");

    let (inner, lookups) = counting(Duration::ZERO);
    let forever = CachedResolver::new(inner, 8).time_to_live(Duration::MAX).unknown_ttl(Duration::MAX);
    for name in ["t-a", "t-a", "nobody", "nobody"] {
        forever.resolve(&tenant(name)).await.expect("resolves");
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 2, "a time to live past the clock's end is for ever, not never");
}
