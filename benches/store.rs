//! `MemoryStore` alone: a claim and a completion of a new delivery, the
//! store's work per processed delivery, for a store of 1,000 that stays in
//! the core's caches and for the default one at its full 100,000 (about
//! 10.7 MB), each forgetting an old delivery as the new one comes in. Both take turns (see `support`); the keys are spread like MACs.
//! `cargo bench --features delivery --bench store`.

mod support;

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use foxreach_webhooks::delivery::{Claim, DeliveryKey, MemoryStore, SeenStore};
use support::{Contender, taking_turns};

/// The value of a future that is ready at once, as `MemoryStore`'s are.
fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("MemoryStore answers at once"),
    }
}

/// The `n`th of a sequence of keys whose every byte depends on `n`.
fn key(n: u64) -> DeliveryKey {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let x = (4 * n + i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        chunk.copy_from_slice(&(x ^ (x >> 29)).to_le_bytes());
    }
    DeliveryKey::new(bytes)
}

/// A store of `capacity` filled (twice over, so that every shard of the
/// cache is full), claiming and completing new deliveries from then on.
fn storing(name: &str, capacity: usize, first: u64) -> Contender<'_> {
    let store = Rc::new(MemoryStore::new().capacity(capacity));
    let filled = Rc::clone(&store);
    let mut next = first;
    let mut deliver = move || {
        next += 1;
        let key = key(next);
        let claimed = now(store.claim(&key));
        now(store.complete(&key)).expect("the memory store does not fail");
        claimed
    };
    for _ in 0..2 * capacity {
        deliver().expect("room for new deliveries");
    }
    assert!(filled.len() <= capacity, "{} held, over the capacity", filled.len());
    Contender {
        name,
        run: Box::new(move |calls| {
            let started = Instant::now();
            for _ in 0..calls {
                assert_eq!(black_box(deliver()).ok(), Some(Claim::New));
            }
            started.elapsed()
        }),
    }
}

fn claim_and_complete(c: &mut Criterion) {
    let mut contenders = [
        storing("MemoryStore of 1,000 (in cache)", 1_000, 0),
        storing("MemoryStore of 100,000 (the default)", 100_000, 1 << 40),
    ];
    taking_turns(c, "store/claim and complete a new delivery", &mut contenders, 0, 16);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = claim_and_complete
}
criterion_main!(benches);
