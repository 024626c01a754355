//! The in-process duplicate store: bounded, expiring, shared by threads.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::{self, Future};
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{Claim, DEFAULT_LEASE, DEFAULT_TTL, SeenStore, StoreError};
use crate::delivery::DeliveryKey;

/// Half of a [`DeliveryKey`]: 128 bits of a MAC tell deliveries apart as well
/// as 256 do, at half the memory. Two words rather than a `u128`, whose
/// 16-byte alignment would pad every entry by a third.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Short([u64; 2]);

impl Hash for Short {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(u128::from(self.0[0]) | u128::from(self.0[1]) << 64);
    }
}

/// Milliseconds since the store was made: a deadline in eight bytes.
type Millis = u64;

/// A [`SeenStore`] in this process's memory: the default store of a
/// [`Dispatcher`](crate::delivery::Dispatcher).
///
/// - **Bounded.** It remembers at most `capacity` processed deliveries
///   (100,000 by default) and as many in progress, at under 100 bytes each
///   (9.7 MB at the default, measured with a million distinct deliveries,
///   whatever the traffic; 13 MB at the peak, while its table grows). When full, the
///   oldest processed delivery is forgotten first: a very late duplicate of
///   it would be processed again, never lost. Raise the capacity above the
///   deliveries you receive per TTL.
/// - **Expiring.** A processed delivery is forgotten after the TTL
///   ([`DEFAULT_TTL`], one hour); an in-progress mark after the lease
///   ([`DEFAULT_LEASE`], 30 seconds).
/// - **Safe under concurrency.** One mutex, held for a few hash-map
///   operations; of two concurrent claims of one delivery exactly one wins.
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
    state: Mutex<State>,
    capacity: usize,
    ttl: Duration,
    lease: Duration,
    epoch: Instant,
}

#[derive(Default)]
struct State {
    /// Every delivery remembered, in progress or done: one map, so that a
    /// claim and its completion cost one lookup each.
    seen: HashMap<Short, Mark, KeyHasher>,
    /// The done entries in the order they were completed, each with its
    /// deadline: expiry and eviction pop from the front. Every entry has the
    /// same TTL, counted from its claim, so this is deadline order but for
    /// handlers that overlap; a record whose entry was replaced since is
    /// skipped when popped.
    order: VecDeque<(Short, Millis)>,
    /// How many entries of `seen` are in progress; expired ones are swept
    /// only when this reaches the capacity.
    pending: usize,
}

/// A deadline, with the top bit set once the delivery is done.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Mark(Millis);

impl Mark {
    const DONE: Millis = 1 << 63;

    fn pending(until: Millis) -> Self {
        Self(until & !Self::DONE)
    }

    fn done(until: Millis) -> Self {
        Self(until | Self::DONE)
    }

    fn is_done(self) -> bool {
        self.0 & Self::DONE != 0
    }

    fn until(self) -> Millis {
        self.0 & !Self::DONE
    }
}

impl MemoryStore {
    /// The default capacity: 100,000 deliveries.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store with the default capacity, TTL and lease.
    #[must_use]
    pub fn new() -> Self {
        Self {
            state: Mutex::default(),
            capacity: Self::DEFAULT_CAPACITY,
            ttl: DEFAULT_TTL,
            lease: DEFAULT_LEASE,
            epoch: Instant::now(),
        }
    }

    /// Remembers at most `capacity` processed deliveries, and refuses new
    /// ones (with a retryable error) while `capacity` are in progress.
    /// At least 1.
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How long a processed delivery is remembered, counted from its claim
    /// (which spares a second clock read; handlers take milliseconds). Keep
    /// it longer than FoxReach's retries take (36 minutes) and at least as
    /// long as any [`ReplayWindow`](crate::delivery::ReplayWindow).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long an in-progress mark lasts if it is never completed nor
    /// released. Keep it above the slowest handler and under a minute.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How many deliveries are remembered, processed or in progress,
    /// including expired ones not yet swept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().seen.len()
    }

    /// Whether no delivery is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn now(&self) -> Millis {
        millis(self.epoch.elapsed())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update leaves the maps consistent before anything can panic,
        // so a poisoned lock still guards a usable state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn claim_now(&self, key: Short, now: Millis) -> Result<Claim, StoreError> {
        let mut state = self.lock();
        state.expire(now);
        if state.pending >= self.capacity && !state.seen.contains_key(&key) {
            state.sweep_pending(now);
            if state.pending >= self.capacity {
                return Err(StoreError::new(format!("{} deliveries are already in progress", self.capacity)));
            }
        }
        let State { seen, pending, .. } = &mut *state;
        let lease = Mark::pending(deadline(now, self.lease));
        match seen.entry(key) {
            Entry::Occupied(entry) if entry.get().until() > now => match entry.get().is_done() {
                true => Ok(Claim::Done),
                false => Ok(Claim::InProgress),
            },
            // Expired: a lease whose holder is gone, or a TTL not yet swept.
            Entry::Occupied(mut entry) => {
                if entry.get().is_done() {
                    *pending += 1;
                }
                entry.insert(lease);
                Ok(Claim::New)
            }
            Entry::Vacant(entry) => {
                entry.insert(lease);
                *pending += 1;
                Ok(Claim::New)
            }
        }
    }

    /// Marks `key` done for the TTL, counted from its claim: the claim's time
    /// is in its lease, which spares reading the clock again.
    fn complete_now(&self, key: Short, clock: impl FnOnce() -> Millis) {
        let mut state = self.lock();
        let State { seen, order, pending } = &mut *state;
        let claimed = match seen.entry(key) {
            // Already done (a copy whose lease ran out was processed twice):
            // keep the first deadline while it lasts, or record it anew.
            Entry::Occupied(mut entry) if entry.get().is_done() => {
                let now = clock();
                if entry.get().until() > now {
                    return;
                }
                entry.insert(Mark::done(deadline(now, self.ttl)));
                now
            }
            Entry::Occupied(mut entry) => {
                let claimed = entry.get().until().saturating_sub(millis(self.lease));
                entry.insert(Mark::done(deadline(claimed, self.ttl)));
                *pending -= 1;
                claimed
            }
            Entry::Vacant(entry) => {
                let now = clock();
                entry.insert(Mark::done(deadline(now, self.ttl)));
                now
            }
        };
        order.push_back((key, deadline(claimed, self.ttl)));
        state.expire(claimed);
        while state.order.len() > self.capacity {
            state.evict_oldest();
        }
    }

    fn release_now(&self, key: Short) {
        let mut state = self.lock();
        if let Entry::Occupied(entry) = state.seen.entry(key)
            && !entry.get().is_done()
        {
            entry.remove();
            state.pending -= 1;
        }
    }
}

impl State {
    fn expire(&mut self, now: Millis) {
        while self.order.front().is_some_and(|&(_, until)| until <= now) {
            self.evict_oldest();
        }
    }

    fn evict_oldest(&mut self) {
        if let Some((key, until)) = self.order.pop_front()
            && let Entry::Occupied(entry) = self.seen.entry(key)
            && *entry.get() == Mark::done(until)
        {
            entry.remove();
        }
    }

    fn sweep_pending(&mut self, now: Millis) {
        self.seen.retain(|_, mark| mark.is_done() || mark.until() > now);
        self.pending = self.seen.values().filter(|mark| !mark.is_done()).count();
    }
}

/// Hashes a key by folding its two halves with a per-store random seed.
///
/// Keys are MACs, uniformly random and unforgeable without the secret, so
/// SipHash's defence against chosen keys buys little here and costs a
/// quarter of a claim. The random seed still keeps keys an application
/// derives itself from colliding the same way in every process.
#[derive(Clone)]
struct KeyHasher {
    seed: [u64; 2],
}

impl Default for KeyHasher {
    fn default() -> Self {
        let random = RandomState::new();
        Self { seed: [random.hash_one(1u8), random.hash_one(2u8)] }
    }
}

impl BuildHasher for KeyHasher {
    type Hasher = Folded;

    fn build_hasher(&self) -> Folded {
        Folded { seed: self.seed, hash: 0 }
    }
}

/// The hasher of [`KeyHasher`]: one folded 128-bit multiply, as foldhash does.
struct Folded {
    seed: [u64; 2],
    hash: u64,
}

impl Hasher for Folded {
    fn write_u128(&mut self, key: u128) {
        let low = (key as u64) ^ self.seed[0] ^ self.hash;
        let high = ((key >> 64) as u64) ^ self.seed[1];
        let product = u128::from(low) * u128::from(high);
        self.hash = (product as u64) ^ ((product >> 64) as u64);
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `Short`s are hashed, with `write_u128`; this is for completeness.
        for chunk in bytes.chunks(16) {
            let mut word = [0u8; 16];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u128(u128::from_le_bytes(word));
        }
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

fn short(key: &DeliveryKey) -> Short {
    let word = |i: usize| {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(&key.as_bytes()[8 * i..8 * i + 8]);
        u64::from_le_bytes(bytes)
    };
    Short([word(0), word(1)])
}

/// `duration` after `now`, kept below the bit that marks a delivery done.
fn deadline(now: Millis, duration: Duration) -> Millis {
    now.saturating_add(millis(duration)).min(Mark::DONE - 1)
}

fn millis(duration: Duration) -> Millis {
    Millis::try_from(duration.as_millis()).unwrap_or(Millis::MAX)
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .field("ttl", &self.ttl)
            .field("lease", &self.lease)
            .finish()
    }
}

impl SeenStore for MemoryStore {
    fn claim(&self, key: &DeliveryKey) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        future::ready(self.claim_now(short(key), self.now()))
    }

    fn complete(&self, key: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.complete_now(short(key), || self.now());
        future::ready(Ok(()))
    }

    fn release(&self, key: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.release_now(short(key));
        future::ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(n: u64) -> Short {
        Short([n, 0])
    }

    #[test]
    fn a_claim_is_new_then_in_progress_then_done() {
        let store = MemoryStore::new();
        assert_eq!(store.claim_now(key(1), 0).ok(), Some(Claim::New));
        assert_eq!(store.claim_now(key(1), 1).ok(), Some(Claim::InProgress));
        store.complete_now(key(1), || 2);
        assert_eq!(store.claim_now(key(1), 3).ok(), Some(Claim::Done));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn marks_expire_on_their_own_clocks() {
        let store = MemoryStore::new().ttl(Duration::from_millis(100)).lease(Duration::from_millis(10));
        store.claim_now(key(1), 0).ok();
        assert_eq!(store.claim_now(key(1), 9).ok(), Some(Claim::InProgress));
        assert_eq!(store.claim_now(key(1), 10).ok(), Some(Claim::New), "the lease ran out");
        store.complete_now(key(1), || unreachable!("the claim's time is in its lease"));
        assert_eq!(store.claim_now(key(1), 109).ok(), Some(Claim::Done));
        assert_eq!(store.claim_now(key(1), 110).ok(), Some(Claim::New), "the TTL, from the claim at 10, ran out");
    }

    #[test]
    fn when_full_the_oldest_processed_delivery_goes_first() {
        let store = MemoryStore::new().capacity(2);
        for n in 1..=3 {
            store.claim_now(key(n), n).ok();
            store.complete_now(key(n), || n);
        }
        assert_eq!(store.claim_now(key(1), 4).ok(), Some(Claim::New));
        assert_eq!(store.claim_now(key(2), 4).ok(), Some(Claim::Done));
        assert_eq!(store.claim_now(key(3), 4).ok(), Some(Claim::Done));
    }

    #[test]
    fn refuses_claims_while_full_of_deliveries_in_progress() {
        let store = MemoryStore::new().capacity(2).lease(Duration::from_millis(10));
        store.claim_now(key(1), 0).ok();
        store.claim_now(key(2), 0).ok();
        assert!(store.claim_now(key(3), 5).is_err());
        assert_eq!(store.claim_now(key(3), 10).ok(), Some(Claim::New), "expired leases are swept");
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
        /// completion turns the claim into a done mark for the TTL from the
        /// claim (or from now, if its mark is gone); a release forgets a mark
        /// in progress. With room to spare nothing is evicted, so every claim
        /// must answer exactly as the rules say, whatever the interleaving.
        #[test]
        fn claims_answer_as_the_rules_say(steps in proptest::collection::vec(step(), 1..80)) {
            const LEASE: Millis = 10;
            const TTL: Millis = 30;
            let store = MemoryStore::new().lease(Duration::from_millis(LEASE)).ttl(Duration::from_millis(TTL));
            let mut rules: HashMap<u8, (bool, Millis)> = HashMap::new(); // key: (done, until)
            let mut unsettled: Vec<u8> = Vec::new();
            let mut now: Millis = 0;
            for step in steps {
                match step {
                    Step::Wait(millis) => now += millis,
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
                        prop_assert_eq!(store.claim_now(key(u64::from(k)), now).ok(), Some(expected), "claim {} at {}", k, now);
                    }
                    Step::Settle(index, complete) if !unsettled.is_empty() => {
                        let k = unsettled.remove(index % unsettled.len());
                        if complete {
                            match rules.get(&k).copied() {
                                Some((true, until)) if until > now => {}
                                Some((false, until)) => {
                                    rules.insert(k, (true, until - LEASE + TTL));
                                }
                                _ => {
                                    rules.insert(k, (true, now + TTL));
                                }
                            }
                            store.complete_now(key(u64::from(k)), || now);
                        } else {
                            if rules.get(&k).is_some_and(|&(done, _)| !done) {
                                rules.remove(&k);
                            }
                            store.release_now(key(u64::from(k)));
                        }
                    }
                    Step::Settle(..) => {}
                }
            }
        }
    }

    #[test]
    fn completing_twice_keeps_one_entry() {
        let store = MemoryStore::new().capacity(2);
        store.complete_now(key(1), || 0);
        store.complete_now(key(1), || 1);
        assert_eq!(store.lock().order.len(), 1);
    }
}
