//! The in-process duplicate store: bounded, expiring, shared by threads.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::{self, Future};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{Claim, DEFAULT_LEASE, DEFAULT_TTL, SeenStore, StoreError};
use crate::delivery::DeliveryKey;

/// Half of a [`DeliveryKey`]: 128 bits of a MAC tell deliveries apart as well
/// as 256 do, at half the memory.
type Short = [u8; 16];

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
    /// Processed deliveries and when each is forgotten.
    done: HashMap<Short, Millis>,
    /// The same entries by deadline. Every entry has the same TTL and time
    /// only moves forward, so insertion order is deadline order, and expiry
    /// and eviction pop from the front.
    order: VecDeque<(Short, Millis)>,
    /// Deliveries in progress and when their lease ends; few at a time, so
    /// expired ones are swept only when it fills up.
    pending: HashMap<Short, Millis>,
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

    /// How long a processed delivery is remembered. Keep it longer than
    /// FoxReach's retries take (36 minutes) and at least as long as any
    /// [`ReplayWindow`](crate::delivery::ReplayWindow).
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
        let state = self.lock();
        state.done.len() + state.pending.len()
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
        if state.done.contains_key(&key) {
            return Ok(Claim::Done);
        }
        if state.pending.get(&key).is_some_and(|&until| until > now) {
            return Ok(Claim::InProgress);
        }
        if state.pending.len() >= self.capacity {
            state.pending.retain(|_, until| *until > now);
            if state.pending.len() >= self.capacity {
                return Err(StoreError::new(format!("{} deliveries are already in progress", self.capacity)));
            }
        }
        state.pending.insert(key, now + millis(self.lease));
        Ok(Claim::New)
    }

    fn complete_now(&self, key: Short, now: Millis) {
        let mut state = self.lock();
        state.pending.remove(&key);
        state.expire(now);
        // Already done (a copy whose lease ran out was processed twice):
        // keep the first deadline, so that each entry has one place in `order`.
        if state.done.contains_key(&key) {
            return;
        }
        while state.done.len() >= self.capacity {
            state.evict_oldest();
        }
        let until = now + millis(self.ttl);
        state.done.insert(key, until);
        state.order.push_back((key, until));
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
            && self.done.get(&key) == Some(&until)
        {
            self.done.remove(&key);
        }
    }
}

fn short(key: &DeliveryKey) -> Short {
    let mut short = [0; 16];
    short.copy_from_slice(&key.as_bytes()[..16]);
    short
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
        self.complete_now(short(key), self.now());
        future::ready(Ok(()))
    }

    fn release(&self, key: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.lock().pending.remove(&short(key));
        future::ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64) -> Short {
        let mut key = [0; 16];
        key[..8].copy_from_slice(&n.to_le_bytes());
        key
    }

    #[test]
    fn a_claim_is_new_then_in_progress_then_done() {
        let store = MemoryStore::new();
        assert_eq!(store.claim_now(key(1), 0).ok(), Some(Claim::New));
        assert_eq!(store.claim_now(key(1), 1).ok(), Some(Claim::InProgress));
        store.complete_now(key(1), 2);
        assert_eq!(store.claim_now(key(1), 3).ok(), Some(Claim::Done));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn marks_expire_on_their_own_clocks() {
        let store = MemoryStore::new().ttl(Duration::from_millis(100)).lease(Duration::from_millis(10));
        store.claim_now(key(1), 0).ok();
        assert_eq!(store.claim_now(key(1), 9).ok(), Some(Claim::InProgress));
        assert_eq!(store.claim_now(key(1), 10).ok(), Some(Claim::New), "the lease ran out");
        store.complete_now(key(1), 20);
        assert_eq!(store.claim_now(key(1), 119).ok(), Some(Claim::Done));
        assert_eq!(store.claim_now(key(1), 120).ok(), Some(Claim::New), "the TTL ran out");
    }

    #[test]
    fn when_full_the_oldest_processed_delivery_goes_first() {
        let store = MemoryStore::new().capacity(2);
        for n in 1..=3 {
            store.claim_now(key(n), n).ok();
            store.complete_now(key(n), n);
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

    #[test]
    fn completing_twice_keeps_one_entry() {
        let store = MemoryStore::new().capacity(2);
        store.complete_now(key(1), 0);
        store.complete_now(key(1), 1);
        assert_eq!(store.lock().order.len(), 1);
    }
}
