//! The in-process duplicate store, on a quick_cache cache.

use std::fmt;
use std::future::{self, Future};
use std::time::{Duration, Instant};

use quick_cache::sync::{Cache, EntryAction, EntryResult};
use quick_cache::{DefaultHashBuilder, Lifecycle, UnitWeighter};

use super::{Claim, DEFAULT_LEASE, DEFAULT_TTL, SeenStore, StoreError};
use crate::delivery::DeliveryKey;

/// A [`SeenStore`] in this process's memory: the default store of a
/// [`Dispatcher`](crate::delivery::Dispatcher), on a
/// [quick_cache](https://docs.rs/quick_cache) cache.
///
/// - **Bounded.** It holds at most `capacity` deliveries (100,000 by
///   default), and its memory grows with use up to about 107 bytes per
///   delivery of capacity: 10.7 MB at the default (measured by
///   `tests/memory_bound.rs` under a million distinct deliveries). Past
///   that, it forgets processed deliveries in about the order they came (a
///   late duplicate of one would be processed again, never lost). The cache
///   is split into shards that fill unevenly, so at the full rate of
///   `capacity` deliveries per TTL a few are forgotten early (187 to 633 of
///   100,000 in the tests), at half that rate none. Size it above the
///   deliveries you receive per TTL.
/// - **Expiring.** A processed delivery counts as seen for
///   [`ttl`](Self::ttl) after its completion ([`DEFAULT_TTL`], one hour); an
///   in-progress mark for [`lease`](Self::lease) after its claim
///   ([`DEFAULT_LEASE`], 30 seconds). An expired mark is ignored and its
///   place taken when the cache needs room.
/// - **Never forgets work in progress.** A delivery being processed is
///   pinned in the cache until its lease runs out, so that a copy arriving
///   meanwhile is told to retry (`409`) rather than run at the same time.
/// - **Safe under concurrency.** A claim, completion or release of one
///   delivery reads and updates its mark in one step under the cache's
///   lock: of two concurrent claims, exactly one gets [`Claim::New`].
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
    marks: Cache<DeliveryKey, Mark, UnitWeighter, DefaultHashBuilder, KeepInProgress>,
    capacity: usize,
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

/// Pins a delivery in progress while its lease runs: evicting it would let
/// a concurrent copy run too.
#[derive(Clone, Copy, Debug, Default)]
struct KeepInProgress;

impl Lifecycle<DeliveryKey, Mark> for KeepInProgress {
    type RequestState = ();

    fn is_pinned(&self, _: &DeliveryKey, mark: &Mark) -> bool {
        !mark.done && mark.is_live(Instant::now())
    }

    fn begin_request(&self) {}
}

impl MemoryStore {
    /// The default capacity: 100,000 deliveries.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store with the default capacity, TTL and lease.
    #[must_use]
    pub fn new() -> Self {
        let capacity = Self::DEFAULT_CAPACITY;
        Self { marks: cache(capacity), capacity, ttl: DEFAULT_TTL, lease: DEFAULT_LEASE }
    }

    /// Holds at most `capacity` deliveries (at least 1). Size it above the
    /// deliveries you receive per TTL.
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
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

    /// How many deliveries the cache holds, processed or in progress,
    /// including expired marks whose places are not yet taken.
    #[must_use]
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    /// Whether the cache holds no delivery.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    // A placeholder (`Vacant`) is held only between `entry` and its
    // `insert`, with no await in between, so waiting for another one (no
    // timeout) is as short as waiting for a lock.

    fn claim_at(&self, key: &DeliveryKey, now: Instant) -> Claim {
        let lease = Mark { done: false, until: deadline(now, self.lease) };
        let found = self.marks.entry(key, None, |_, mark| match (mark.is_live(now), mark.done) {
            (true, true) => EntryAction::Retain(Claim::Done),
            (true, false) => EntryAction::Retain(Claim::InProgress),
            // Expired: a lease whose holder is gone, or a TTL that ran out.
            (false, _) => {
                *mark = lease;
                EntryAction::Retain(Claim::New)
            }
        });
        match found {
            EntryResult::Retained(claim) => claim,
            EntryResult::Vacant(place) | EntryResult::Replaced(place, _) => match place.insert(lease) {
                Ok(()) => Claim::New,
                // The place went to another copy meanwhile: let FoxReach retry.
                Err(_) => Claim::InProgress,
            },
            // Neither is returned for this callback without a timeout; a retry loses nothing.
            EntryResult::Removed(..) | EntryResult::Timeout => Claim::InProgress,
        }
    }

    fn complete_at(&self, key: &DeliveryKey, now: Instant) {
        let done = Mark { done: true, until: deadline(now, self.ttl) };
        let found = self.marks.entry(key, None, |_, mark| {
            // A copy whose lease ran out was processed twice: the first
            // completion's deadline stands.
            if !(mark.done && mark.is_live(now)) {
                *mark = done;
            }
            EntryAction::Retain(())
        });
        // Forgotten since its claim (its lease ran out and the place was taken).
        if let EntryResult::Vacant(place) | EntryResult::Replaced(place, _) = found {
            let _ = place.insert(done);
        }
    }

    fn release_now(&self, key: &DeliveryKey) {
        // A vacant place is left as it was: there is nothing to forget.
        let _ = self.marks.entry(key, None, |_, mark| match mark.done {
            true => EntryAction::Retain(()),
            false => EntryAction::Remove,
        });
    }
}

/// The cache behind a store of `capacity`.
fn cache(capacity: usize) -> Cache<DeliveryKey, Mark, UnitWeighter, DefaultHashBuilder, KeepInProgress> {
    let weight = u64::try_from(capacity).unwrap_or(u64::MAX);
    Cache::with(capacity, weight, UnitWeighter, DefaultHashBuilder::default(), KeepInProgress)
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
}
