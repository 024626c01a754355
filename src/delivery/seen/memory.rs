//! The in-process duplicate store, on a moka cache.

use std::fmt;
use std::future::{self, Future};
use std::time::{Duration, Instant};

use moka::ops::compute::{CompResult, Op};
use moka::policy::{EvictionPolicy, Expiry};
use moka::sync::Cache;

use super::{Claim, DEFAULT_LEASE, DEFAULT_TTL, SeenStore, StoreError};
use crate::delivery::DeliveryKey;

/// A [`SeenStore`] in this process's memory: the default store of a
/// [`Dispatcher`](crate::delivery::Dispatcher), on a
/// [moka](https://docs.rs/moka) cache.
///
/// - **Bounded.** It remembers at most `capacity` deliveries (100,000 by
///   default); past that, the least recently claimed is forgotten first (a
///   late duplicate of it would be processed again, never lost). Raise the
///   capacity above the deliveries you receive per TTL. Memory grows with
///   use up to the bound: about 37 MB at the default capacity, measured by
///   `tests/memory_bound.rs`.
/// - **Expiring.** A processed delivery is forgotten [`ttl`](Self::ttl)
///   after its completion ([`DEFAULT_TTL`], one hour); an in-progress mark
///   [`lease`](Self::lease) after its claim ([`DEFAULT_LEASE`], 30 seconds).
///   Both are expiries of the same cache entry, so an expired mark frees its
///   memory on its own.
/// - **Safe under concurrency.** Claims, completions and releases of one
///   delivery are serialized by the cache's per-key lock: of two concurrent
///   claims, exactly one gets [`Claim::New`].
///
/// It is per process: receivers behind a load balancer need a shared store
/// (`RedisStore`, feature `redis`).
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use foxreach_webhooks::delivery::MemoryStore;
///
/// let store = MemoryStore::new().capacity(1_000_000).ttl(Duration::from_secs(2 * 60 * 60));
/// assert!(store.is_empty());
/// ```
pub struct MemoryStore {
    marks: Cache<DeliveryKey, Mark>,
    capacity: u64,
    ttl: Duration,
    lease: Duration,
}

/// What is remembered of a delivery: whether it was processed, and until
/// when the mark holds.
#[derive(Clone, Copy, Debug)]
struct Mark {
    done: bool,
    until: Instant,
}

impl Mark {
    fn is_live(self, now: Instant) -> bool {
        self.until > now
    }
}

/// Expires each entry at its mark's deadline, so that a lease and a TTL are
/// two expiries of one entry.
struct AtDeadline;

impl Expiry<DeliveryKey, Mark> for AtDeadline {
    fn expire_after_create(&self, _: &DeliveryKey, mark: &Mark, created_at: Instant) -> Option<Duration> {
        Some(mark.until.saturating_duration_since(created_at))
    }

    fn expire_after_update(
        &self,
        _: &DeliveryKey,
        mark: &Mark,
        updated_at: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(mark.until.saturating_duration_since(updated_at))
    }
}

impl MemoryStore {
    /// The default capacity: 100,000 deliveries.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store with the default capacity, TTL and lease.
    #[must_use]
    pub fn new() -> Self {
        let capacity = Self::DEFAULT_CAPACITY as u64;
        Self { marks: cache(capacity), capacity, ttl: DEFAULT_TTL, lease: DEFAULT_LEASE }
    }

    /// Remembers at most `capacity` deliveries (at least 1); past that, the
    /// least recently claimed is forgotten first. Size it above the
    /// deliveries you receive per TTL.
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = u64::try_from(capacity).unwrap_or(u64::MAX).max(1);
        self.marks = cache(self.capacity);
        self
    }

    /// How long a processed delivery is remembered, counted from its
    /// completion. Keep it longer than FoxReach's retries take (36 minutes)
    /// and at least as long as any
    /// [`ReplayWindow`](crate::delivery::ReplayWindow).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long an in-progress mark lasts if it is never completed nor
    /// released, counted from its claim. Keep it above the slowest handler
    /// and under a minute, so that FoxReach's first retry is processed.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How many deliveries are remembered, processed or in progress, once
    /// the cache's pending maintenance (evictions, expiries) has run: for
    /// tests and diagnostics, not for every request.
    #[must_use]
    pub fn len(&self) -> usize {
        self.marks.run_pending_tasks();
        usize::try_from(self.marks.entry_count()).unwrap_or(usize::MAX)
    }

    /// Whether no delivery is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn claim_at(&self, key: &DeliveryKey, now: Instant) -> Claim {
        let lease = Mark { done: false, until: deadline(now, self.lease) };
        let result = self.marks.entry(*key).and_compute_with(|entry| match entry {
            Some(entry) if entry.value().is_live(now) => Op::Nop,
            // Absent, or expired: a lease whose holder is gone, or a TTL that ran out.
            _ => Op::Put(lease),
        });
        match result {
            CompResult::Unchanged(entry) if entry.value().done => Claim::Done,
            CompResult::Unchanged(_) => Claim::InProgress,
            _ => Claim::New,
        }
    }

    fn complete_at(&self, key: &DeliveryKey, now: Instant) {
        let done = Mark { done: true, until: deadline(now, self.ttl) };
        self.marks.entry(*key).and_compute_with(|entry| match entry {
            // A copy whose lease ran out was processed twice: the first
            // completion's deadline stands.
            Some(entry) if entry.value().done && entry.value().is_live(now) => Op::Nop,
            // In progress, or forgotten since its claim.
            _ => Op::Put(done),
        });
    }

    fn release_now(&self, key: &DeliveryKey) {
        self.marks.entry(*key).and_compute_with(|entry| match entry {
            Some(entry) if !entry.value().done => Op::Remove,
            _ => Op::Nop,
        });
    }
}

/// The cache behind a store of `capacity`: LRU, because TinyLFU, moka's
/// default, may refuse to admit a new key into a full cache, and a claim
/// that is not kept would let a concurrent copy run too.
fn cache(capacity: u64) -> Cache<DeliveryKey, Mark> {
    Cache::builder().max_capacity(capacity).eviction_policy(EvictionPolicy::lru()).expire_after(AtDeadline).build()
}

/// `duration` after `now`, capped at a century so that no setting overflows
/// the clock.
fn deadline(now: Instant, duration: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
    now + duration.min(CENTURY)
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("capacity", &self.capacity)
            .field("ttl", &self.ttl)
            .field("lease", &self.lease)
            .finish()
    }
}

impl SeenStore for MemoryStore {
    fn claim(&self, key: &DeliveryKey) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        future::ready(Ok(self.claim_at(key, Instant::now())))
    }

    fn complete(&self, key: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.complete_at(key, Instant::now());
        future::ready(Ok(()))
    }

    fn release(&self, key: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.release_now(key);
        future::ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(n: u64) -> DeliveryKey {
        let mut bytes = [0; 32];
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        DeliveryKey::new(bytes)
    }

    /// A clock the tests move by hand, in steps of `unit`. The store decides
    /// liveness by this clock; the cache frees entries by the real one, so
    /// the unit is long enough (a second) that no entry is freed while a
    /// test runs.
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
    fn past_its_capacity_the_store_forgets_the_least_recently_claimed() {
        let (store, clock) = (MemoryStore::new().capacity(100), Clock::new());
        for n in 0..200 {
            assert_eq!(store.claim_at(&key(n), clock.at(0)), Claim::New);
            store.complete_at(&key(n), clock.at(0));
            // Let the cache evict as it goes, as a steady stream of requests does.
            store.marks.run_pending_tasks();
        }
        assert_eq!(store.len(), 100);
        assert!((100..200).all(|n| store.marks.contains_key(&key(n))), "the newest 100 are remembered");
        assert_eq!(store.claim_at(&key(0), clock.at(1)), Claim::New, "the oldest went first");
    }

    #[test]
    fn an_expired_entry_frees_its_memory_on_its_own() {
        let store = MemoryStore::new().lease(Duration::from_millis(1)).ttl(Duration::from_millis(1));
        store.claim_at(&key(1), Instant::now());
        store.complete_at(&key(2), Instant::now());
        assert_eq!(store.len(), 2);
        // moka's timer wheel resolves expiries to about a second.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !store.is_empty() {
            assert!(Instant::now() < deadline, "{} entries outlived their expiry", store.len());
            std::thread::sleep(Duration::from_millis(100));
        }
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
}
