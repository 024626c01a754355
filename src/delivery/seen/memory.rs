//! The in-process duplicate store: bounded, expiring, shared by threads.

use std::fmt;
use std::future::{self, Future};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{Claim, DEFAULT_LEASE, DEFAULT_TTL, SeenStore, StoreError};
use crate::delivery::DeliveryKey;

/// Half of a [`DeliveryKey`]: 128 bits of a MAC tell deliveries apart as well
/// as 256 do, at half the memory. Two words rather than a `u128`, whose
/// 16-byte alignment would pad every entry by a third.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Short([u64; 2]);

/// Milliseconds since the store was made: a deadline in eight bytes.
type Millis = u64;

/// Deliveries per set: a set is three cache lines, side by side in memory.
const WAYS: usize = 8;

/// The bytes the CPU fetches at once, and [`Set`]'s alignment.
const CACHE_LINE: usize = 64;
const _: () = assert!(align_of::<Set>() == CACHE_LINE && size_of::<Slot>() <= CACHE_LINE);

/// Places per delivery of capacity. With three, `capacity` deliveries fill a
/// set with 8 only rarely (see [`MemoryStore`]'s figures).
const ROOM: usize = 3;

/// A [`SeenStore`] in this process's memory: the default store of a
/// [`Dispatcher`](crate::delivery::Dispatcher).
///
/// - **Bounded, allocated once.** A table sized for `capacity` deliveries
///   per TTL (100,000 by default) with room for three times as many, at 24
///   bytes each: 72 bytes per delivery of capacity, 7.2 MB at the default,
///   allocated whole by the first claim and never grown (measured with a
///   million distinct deliveries). It is set-associative: a delivery's key
///   picks one set of 8 places, which a claim reads in one pass. When a set
///   is full, the processed delivery in it that expires first (the oldest)
///   is forgotten: a late duplicate of it would be processed again, never
///   lost. Receiving `capacity` deliveries within one TTL, about 1 in 1,100
///   is forgotten before its TTL ends (78 to 101 of 100,000 in the tests);
///   at half that rate, about 1 in 100,000 (none of 50,000 in the tests).
///   Raise the capacity above the deliveries you receive per TTL. A set of 8
///   deliveries all in progress refuses a ninth with a [`StoreError`]
///   (answered with `503`, so FoxReach retries it).
/// - **Expiring.** A processed delivery is forgotten after the TTL
///   ([`DEFAULT_TTL`], one hour); an in-progress mark after the lease
///   ([`DEFAULT_LEASE`], 30 seconds).
/// - **Safe under concurrency.** One mutex, held for two passes over one
///   set; of two concurrent claims of one delivery exactly one wins.
/// - **Fetched ahead.** Given the [`prefetch`](SeenStore::prefetch) hint
///   (the HTTP glue gives it once the signature verifies), it asks the CPU
///   for the delivery's set while the event is parsed, so that a table
///   larger than the caches costs less of a wait at the claim.
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
    sets: Mutex<Box<[Set]>>,
    hasher: KeyHasher,
    capacity: usize,
    ttl: Duration,
    lease: Duration,
    epoch: Instant,
}

/// The places of the deliveries whose keys hash to one set, aligned so that
/// the set spans as few cache lines as it can.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Set([Slot; WAYS]);

/// One delivery remembered, or [`Mark::EMPTY`].
#[derive(Clone, Copy)]
struct Slot {
    key: Short,
    mark: Mark,
}

/// A deadline, with the top bit set once the delivery is done.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Mark(Millis);

impl Mark {
    const DONE: Millis = 1 << 63;
    /// No delivery: a processed one that expired at the store's start, so
    /// that every rule for expired marks covers empty places too.
    const EMPTY: Self = Self(Self::DONE);

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

/// Where a key stands in its set.
enum Place {
    /// At this index (its mark may have expired).
    Found(usize),
    /// Not here; a new delivery would take this index: a free place (empty,
    /// or expired), or else the processed delivery that expires first.
    Room(usize),
    /// Not here, and every place holds a delivery in progress.
    Full,
}

impl Set {
    /// Asks the CPU for the set's cache lines, without waiting for them:
    /// one hint per line, at the first slot that starts in it. A slot is
    /// smaller than a line, so every line has one.
    fn prefetch(&self) {
        let line_of = |index: usize| index * size_of::<Slot>() / CACHE_LINE;
        for (index, slot) in self.0.iter().enumerate() {
            if index == 0 || line_of(index) != line_of(index - 1) {
                prefetch(slot);
            }
        }
    }

    /// Where `key` stands in this set.
    fn place(&self, key: Short, now: Millis) -> Place {
        if let Some(index) = self.0.iter().position(|slot| slot.key == key) {
            return Place::Found(index);
        }
        // Free places rank first, then processed deliveries by deadline;
        // deliveries in progress are never taken over.
        let rank = |slot: &Slot| match slot.mark.until() {
            until if until <= now => 0,
            until if slot.mark.is_done() => until,
            _ => Millis::MAX,
        };
        match self.0.iter().map(rank).enumerate().min_by_key(|&(_, rank)| rank) {
            Some((index, rank)) if rank < Millis::MAX => Place::Room(index),
            _ => Place::Full,
        }
    }
}

impl MemoryStore {
    /// The default capacity: 100,000 deliveries.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store with the default capacity, TTL and lease.
    #[must_use]
    pub fn new() -> Self {
        Self {
            sets: Mutex::new(Box::default()),
            hasher: KeyHasher::default(),
            capacity: Self::DEFAULT_CAPACITY,
            ttl: DEFAULT_TTL,
            lease: DEFAULT_LEASE,
            epoch: Instant::now(),
        }
    }

    /// Sizes the store for `capacity` deliveries per TTL (at least 1), with
    /// room for three times as many so that few are forgotten early (see
    /// above): 72 bytes per delivery of capacity, allocated by the first claim.
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
    /// including expired ones whose places are not yet taken again. It
    /// counts them over the whole table, under the lock: for tests and
    /// diagnostics, not for every request.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().iter().flat_map(|set| &set.0).filter(|slot| slot.mark != Mark::EMPTY).count()
    }

    /// Whether no delivery is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn now(&self) -> Millis {
        millis(self.epoch.elapsed())
    }

    fn lock(&self) -> MutexGuard<'_, Box<[Set]>> {
        // Every update is a single store into a slot, so a poisoned lock
        // still guards a usable table.
        self.sets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `update` on the set of `key`, under the lock.
    fn in_set<T>(&self, key: Short, update: impl FnOnce(&mut Set) -> T) -> T {
        let mut sets = self.lock();
        if sets.is_empty() {
            // Made on first use, so that a store configured and replaced, or
            // never used, costs nothing.
            *sets = table(self.capacity);
        }
        let index = self.hasher.set_of(key, sets.len());
        update(&mut sets[index])
    }

    fn claim_now(&self, key: Short, now: Millis) -> Result<Claim, StoreError> {
        let lease = Mark::pending(deadline(now, self.lease));
        self.in_set(key, |set| match set.place(key, now) {
            Place::Found(index) => {
                let mark = &mut set.0[index].mark;
                if mark.until() > now {
                    return Ok(if mark.is_done() { Claim::Done } else { Claim::InProgress });
                }
                // Expired: a lease whose holder is gone, or a TTL that ran out.
                *mark = lease;
                Ok(Claim::New)
            }
            Place::Room(index) => {
                set.0[index] = Slot { key, mark: lease };
                Ok(Claim::New)
            }
            Place::Full => Err(StoreError::new(format!("{WAYS} deliveries of one set are already in progress"))),
        })
    }

    /// Marks `key` done for the TTL, counted from its claim: the claim's time
    /// is in its lease, which spares reading the clock again.
    fn complete_now(&self, key: Short, clock: impl Fn() -> Millis) {
        let (ttl, lease) = (self.ttl, self.lease);
        self.in_set(key, |set| {
            // Found almost always, and then the time is not needed: look
            // with none first.
            let place = match set.place(key, 0) {
                Place::Found(index) => Place::Found(index),
                _ => set.place(key, clock()),
            };
            match place {
                Place::Found(index) => {
                    let mark = &mut set.0[index].mark;
                    if !mark.is_done() {
                        let claimed = mark.until().saturating_sub(millis(lease));
                        *mark = Mark::done(deadline(claimed, ttl));
                        return;
                    }
                    // Already done (a copy whose lease ran out was processed
                    // twice): keep the first deadline while it lasts, or
                    // record it anew.
                    let now = clock();
                    if mark.until() <= now {
                        *mark = Mark::done(deadline(now, ttl));
                    }
                }
                // Forgotten since its claim.
                Place::Room(index) => set.0[index] = Slot { key, mark: Mark::done(deadline(clock(), ttl)) },
                // Every place in progress: a duplicate would be processed
                // again, never lost.
                Place::Full => {}
            }
        });
    }

    fn release_now(&self, key: Short) {
        self.in_set(key, |set| {
            if let Place::Found(index) = set.place(key, 0)
                && !set.0[index].mark.is_done()
            {
                // The key stays, so that it is found here if claimed again.
                set.0[index].mark = Mark::EMPTY;
            }
        });
    }
}

/// A table for `capacity` deliveries, with room for three times as many.
fn table(capacity: usize) -> Box<[Set]> {
    let sets = capacity.saturating_mul(ROOM).div_ceil(WAYS).max(1);
    vec![Set([Slot { key: Short([0; 2]), mark: Mark::EMPTY }; WAYS]); sets].into_boxed_slice()
}

/// Picks a key's set: one folded 128-bit multiply of the key's two halves
/// with a per-store random seed, as foldhash does.
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

impl KeyHasher {
    /// The index of `key`'s set among `sets`: the hash scaled to the table,
    /// a multiplication where a modulo would be a division.
    fn set_of(&self, Short([low, high]): Short, sets: usize) -> usize {
        let product = u128::from(low ^ self.seed[0]) * u128::from(high ^ self.seed[1]);
        let hash = (product as u64) ^ ((product >> 64) as u64);
        ((u128::from(hash) * sets as u128) >> 64) as usize
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

/// Asks the CPU to fetch the cache line holding `value`, without waiting.
/// Only a hint: where no safe instruction gives it, it does nothing.
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse"))]
    safe_arch::prefetch_t0(value);
    #[cfg(not(all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "sse")))]
    let _ = value;
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
        // Not `len`, which scans the table.
        f.debug_struct("MemoryStore")
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

    /// Starts fetching `key`'s set, unless another thread holds the lock (a
    /// hint never waits) or no claim has made the table yet.
    fn prefetch(&self, key: &DeliveryKey) {
        if let Ok(sets) = self.sets.try_lock()
            && !sets.is_empty()
        {
            sets[self.hasher.set_of(short(key), sets.len())].prefetch();
        }
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

    /// Keys that all fall in the first set of `store`, found by trying.
    fn keys_of_one_set(store: &MemoryStore, count: usize) -> Vec<Short> {
        let sets = table(store.capacity).len();
        (0..).map(key).filter(|&key| store.hasher.set_of(key, sets) == 0).take(count).collect()
    }

    #[test]
    fn when_a_set_is_full_its_oldest_processed_delivery_goes_first() {
        let store = MemoryStore::new().capacity(1_000);
        let keys = keys_of_one_set(&store, WAYS + 1);
        for (n, &key) in (1..).zip(&keys) {
            store.claim_now(key, n).ok();
            store.complete_now(key, || n);
        }
        for &key in &keys[1..] {
            assert_eq!(store.claim_now(key, 100).ok(), Some(Claim::Done));
        }
        assert_eq!(store.claim_now(keys[0], 100).ok(), Some(Claim::New), "the oldest went");
    }

    #[test]
    fn a_lapsed_lease_makes_room_before_a_processed_delivery() {
        let store = MemoryStore::new().capacity(1_000).lease(Duration::from_millis(10));
        let keys = keys_of_one_set(&store, WAYS + 1);
        // One claim whose holder never came back, then processed ones.
        store.claim_now(keys[0], 0).ok();
        for &key in &keys[1..WAYS] {
            store.claim_now(key, 5).ok();
            store.complete_now(key, || 5);
        }
        assert_eq!(store.claim_now(keys[WAYS], 20).ok(), Some(Claim::New));
        for &key in &keys[1..WAYS] {
            assert_eq!(store.claim_now(key, 20).ok(), Some(Claim::Done));
        }
    }

    #[test]
    fn refuses_claims_while_a_set_is_full_of_deliveries_in_progress() {
        let store = MemoryStore::new().capacity(1_000).lease(Duration::from_millis(10));
        let keys = keys_of_one_set(&store, WAYS + 1);
        for &key in &keys[..WAYS] {
            store.claim_now(key, 0).ok();
        }
        assert!(store.claim_now(keys[WAYS], 5).is_err());
        assert_eq!(store.claim_now(keys[WAYS], 10).ok(), Some(Claim::New), "expired leases make room");
    }

    #[test]
    fn the_table_has_room_for_three_times_the_capacity_made_on_first_use() {
        for (capacity, sets) in [(1, 1), (8, 3), (1_000, 375), (100_000, 37_500)] {
            let store = MemoryStore::new().capacity(capacity);
            assert_eq!(store.lock().len(), 0, "nothing allocated before the first claim");
            store.claim_now(key(1), 0).ok();
            assert_eq!(store.lock().len(), sets, "capacity {capacity}");
        }
        assert_eq!(std::mem::size_of::<Set>(), 192, "three cache lines");
    }

    #[test]
    fn a_prefetch_makes_no_table_and_changes_no_answer() {
        let store = MemoryStore::new();
        let delivery = DeliveryKey::new([7; 32]);
        store.prefetch(&delivery);
        assert_eq!(store.lock().len(), 0, "a hint does not allocate the table");
        store.claim_now(short(&delivery), 0).ok();
        store.prefetch(&delivery);
        assert_eq!(store.claim_now(short(&delivery), 1).ok(), Some(Claim::InProgress));
    }

    #[test]
    fn a_prefetch_never_waits_for_the_lock() {
        let store = std::sync::Arc::new(MemoryStore::new());
        store.claim_now(key(1), 0).ok();
        let (done, finished) = std::sync::mpsc::channel();
        let held = store.lock();
        let hinting = std::sync::Arc::clone(&store);
        std::thread::spawn(move || {
            hinting.prefetch(&DeliveryKey::new([1; 32]));
            done.send(()).ok();
        });
        // Returning while another thread holds the lock is the point; a
        // prefetch that waited would still be waiting.
        let returned = finished.recv_timeout(Duration::from_secs(10));
        drop(held);
        assert!(returned.is_ok(), "prefetch waited for the lock");
    }

    /// Of `count` distinct deliveries processed within one TTL by a store of
    /// `capacity`, how many it no longer remembers.
    fn forgotten_early(capacity: usize, count: u64) -> usize {
        // Spread like MACs: both words depend on every bit of n.
        let mac = |n: u64| {
            let mix = |x: u64| (x ^ (x >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            Short([mix(n), mix(!n)])
        };
        let store = MemoryStore::new().capacity(capacity);
        for n in 0..count {
            assert_eq!(store.claim_now(mac(n), 0).ok(), Some(Claim::New));
            store.complete_now(mac(n), || 0);
        }
        let sets = store.lock();
        let remembered = |key: Short| {
            sets[store.hasher.set_of(key, sets.len())].0.iter().any(|slot| slot.key == key && slot.mark.until() > 0)
        };
        (0..count).filter(|&n| !remembered(mac(n))).count()
    }

    #[test]
    fn few_deliveries_are_forgotten_before_their_ttl() {
        // Expected from the Poisson law of keys per set: 88 in 100,000 (1 in
        // 1,100) at capacity, 0.5 in 50,000 at half of it.
        let at_capacity = forgotten_early(100_000, 100_000);
        let at_half = forgotten_early(100_000, 50_000);
        println!("forgotten early: {at_capacity} of 100,000 at capacity, {at_half} of 50,000 at half");
        assert!(at_capacity <= 200, "{at_capacity} of 100,000");
        assert!(at_half <= 5, "{at_half} of 50,000");
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
            let mut rules: std::collections::HashMap<u8, (bool, Millis)> = std::collections::HashMap::new(); // key: (done, until)
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
        let store = MemoryStore::new();
        store.complete_now(key(1), || 0);
        store.complete_now(key(1), || 1);
        assert_eq!(store.len(), 1);
    }
}
