//! The store against its rules, on a clock the tests move by hand.

use super::*;
use proptest::prelude::*;

fn key(n: u64) -> DeliveryKey {
    let mut bytes = [0; 32];
    bytes[..8].copy_from_slice(&n.to_le_bytes());
    DeliveryKey::new(bytes)
}

/// A clock the tests move by hand, in steps of `unit`. The store decides
/// liveness by this clock; pinning reads the real one, so the unit is long
/// enough (a second) that no lease's pin ends while a test runs.
struct Clock {
    start: Instant,
    unit: Duration,
}

impl Clock {
    fn new() -> Self {
        Self { start: Instant::now(), unit: Duration::from_secs(1) }
    }

    fn at(&self, units: u64) -> Instant {
        self.start + self.unit * u32::try_from(units).expect("a short test")
    }

    fn units(&self, units: u64) -> Duration {
        self.unit * u32::try_from(units).expect("a short test")
    }
}

#[test]
fn a_claim_is_new_then_in_progress_then_done() {
    let (store, clock) = (MemoryStore::new(), Clock::new());
    assert_eq!(store.claim_at(&key(1), clock.at(0)), Claim::New);
    assert_eq!(store.claim_at(&key(1), clock.at(1)), Claim::InProgress);
    store.complete_at(&key(1), clock.at(2));
    assert_eq!(store.claim_at(&key(1), clock.at(3)), Claim::Done);
    assert_eq!(store.len(), 1);
}

#[test]
fn marks_expire_on_their_own_clocks() {
    let clock = Clock::new();
    let store = MemoryStore::new().ttl(clock.units(100)).lease(clock.units(10));
    store.claim_at(&key(1), clock.at(0));
    assert_eq!(store.claim_at(&key(1), clock.at(9)), Claim::InProgress);
    assert_eq!(store.claim_at(&key(1), clock.at(10)), Claim::New, "the lease ran out");
    store.complete_at(&key(1), clock.at(15));
    assert_eq!(store.claim_at(&key(1), clock.at(114)), Claim::Done);
    assert_eq!(store.claim_at(&key(1), clock.at(115)), Claim::New, "the TTL, from the completion at 15, ran out");
}

#[test]
fn renewing_extends_a_claim_and_nothing_else() {
    let clock = Clock::new();
    let store = MemoryStore::new().ttl(clock.units(100)).lease(clock.units(10));
    store.claim_at(&key(1), clock.at(0));
    assert!(store.renew_at(&key(1), clock.at(8)));
    assert_eq!(store.claim_at(&key(1), clock.at(17)), Claim::InProgress, "10 units from the renewal at 8");
    assert_eq!(store.claim_at(&key(1), clock.at(18)), Claim::New, "no renewal since: the holder is gone");

    store.complete_at(&key(1), clock.at(20));
    assert!(!store.renew_at(&key(1), clock.at(119)));
    assert_eq!(store.claim_at(&key(1), clock.at(120)), Claim::New, "a done mark keeps its TTL");

    assert!(!store.renew_at(&key(2), clock.at(0)));
    assert!(store.marks.get(&key(2)).is_none(), "renewing does not create a mark");

    store.claim_at(&key(3), clock.at(0));
    assert!(!store.renew_at(&key(3), clock.at(10)), "an expired claim is not brought back");
    assert_eq!(store.claim_at(&key(3), clock.at(10)), Claim::New);
}

#[test]
fn past_its_capacity_the_store_forgets_the_oldest_processed_deliveries() {
    let (store, clock) = (MemoryStore::new().capacity(1_000), Clock::new());
    for n in 0..10_000 {
        assert_eq!(store.claim_at(&key(n), clock.at(0)), Claim::New);
        store.complete_at(&key(n), clock.at(0));
    }
    assert!(store.len() <= 1_000, "{} held", store.len());
    assert_eq!(store.claim_at(&key(9_999), clock.at(1)), Claim::Done, "the newest is remembered");
    assert_eq!(store.claim_at(&key(0), clock.at(1)), Claim::New, "the oldest went");
}

#[test]
fn a_delivery_in_progress_is_never_evicted_while_its_lease_runs() {
    let (store, clock) = (MemoryStore::new().capacity(100), Clock::new());
    assert_eq!(store.claim_at(&key(u64::MAX), clock.at(0)), Claim::New);
    for n in 0..10_000 {
        store.claim_at(&key(n), clock.at(0));
        store.complete_at(&key(n), clock.at(0));
    }
    assert_eq!(store.claim_at(&key(u64::MAX), clock.at(1)), Claim::InProgress);
}

#[test]
fn only_a_live_lease_is_pinned() {
    let now = Instant::now();
    let pinned = |done, until| KeepInProgress.is_pinned(&key(1), &Mark { done, until });
    assert!(pinned(false, now + Duration::from_secs(60)));
    assert!(!pinned(false, now - Duration::from_secs(1)), "a lease whose holder is gone");
    assert!(!pinned(true, now + Duration::from_secs(60)), "a processed delivery");
}

/// Of `count` distinct deliveries processed within one TTL by a store of
/// `capacity`, how many it no longer remembers.
fn forgotten_early(capacity: usize, count: u64) -> usize {
    let (store, clock) = (MemoryStore::new().capacity(capacity), Clock::new());
    // Spread like MACs: every byte depends on n.
    let mac = |n: u64| {
        let mut bytes = [0; 32];
        for (i, word) in bytes.chunks_mut(8).enumerate() {
            let x = (4 * n + i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            word.copy_from_slice(&(x ^ (x >> 29)).to_le_bytes());
        }
        DeliveryKey::new(bytes)
    };
    for n in 0..count {
        assert_eq!(store.claim_at(&mac(n), clock.at(0)), Claim::New);
        store.complete_at(&mac(n), clock.at(0));
    }
    (0..count).filter(|&n| store.marks.peek(&mac(n)).is_none()).count()
}

#[test]
fn few_deliveries_are_forgotten_before_their_ttl() {
    let at_capacity = forgotten_early(100_000, 100_000);
    let at_half = forgotten_early(100_000, 50_000);
    println!("forgotten early: {at_capacity} of 100,000 at capacity, {at_half} of 50,000 at half");
    assert!(at_capacity <= 1_500, "{at_capacity} of 100,000");
    assert!(at_half == 0, "{at_half} of 50,000");
}

#[test]
fn durations_beyond_a_century_do_not_overflow() {
    let store = MemoryStore::new().ttl(Duration::MAX).lease(Duration::MAX);
    assert_eq!(store.claim_at(&key(1), Instant::now()), Claim::New);
    store.complete_at(&key(1), Instant::now());
    assert_eq!(store.claim_at(&key(1), Instant::now()), Claim::Done);
}

/// What a test delivery does next.
#[derive(Debug, Clone)]
enum Step {
    Claim(u8),
    /// Settles the claim at this index among those not yet settled:
    /// complete if `true`, release if `false`.
    Settle(usize, bool),
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u8..4).prop_map(Step::Claim),
        3 => (0usize..8, any::<bool>()).prop_map(|(index, complete)| Step::Settle(index, complete)),
        2 => (0u64..25).prop_map(Step::Wait),
    ]
}

proptest! {
    /// Against the documented rules, kept in a plain map: a mark is live
    /// until its deadline; a claim wins unless a live mark exists; a
    /// completion makes a done mark for the TTL from now, unless a live
    /// done mark exists; a release forgets a mark in progress. With room
    /// to spare nothing is evicted, so every claim must answer exactly as
    /// the rules say, whatever the interleaving.
    #[test]
    fn claims_answer_as_the_rules_say(steps in proptest::collection::vec(step(), 1..80)) {
        const LEASE: u64 = 10;
        const TTL: u64 = 30;
        let clock = Clock::new();
        let store = MemoryStore::new().lease(clock.units(LEASE)).ttl(clock.units(TTL));
        let mut rules: std::collections::HashMap<u8, (bool, u64)> = std::collections::HashMap::new(); // key: (done, until)
        let mut unsettled: Vec<u8> = Vec::new();
        let mut now = 0;
        for step in steps {
            match step {
                Step::Wait(units) => now += units,
                Step::Claim(k) => {
                    let expected = match rules.get(&k) {
                        Some(&(true, until)) if until > now => Claim::Done,
                        Some(&(false, until)) if until > now => Claim::InProgress,
                        _ => {
                            rules.insert(k, (false, now + LEASE));
                            unsettled.push(k);
                            Claim::New
                        }
                    };
                    prop_assert_eq!(store.claim_at(&key(u64::from(k)), clock.at(now)), expected, "claim {} at {}", k, now);
                }
                Step::Settle(index, complete) if !unsettled.is_empty() => {
                    let k = unsettled.remove(index % unsettled.len());
                    if complete {
                        if !matches!(rules.get(&k), Some(&(true, until)) if until > now) {
                            rules.insert(k, (true, now + TTL));
                        }
                        store.complete_at(&key(u64::from(k)), clock.at(now));
                    } else {
                        if rules.get(&k).is_some_and(|&(done, _)| !done) {
                            rules.remove(&k);
                        }
                        store.release_now(&key(u64::from(k)));
                    }
                }
                Step::Settle(..) => {}
            }
        }
    }
}

#[test]
fn completing_twice_keeps_one_entry() {
    let (store, clock) = (MemoryStore::new(), Clock::new());
    store.complete_at(&key(1), clock.at(0));
    store.complete_at(&key(1), clock.at(1));
    assert_eq!(store.len(), 1);
}
