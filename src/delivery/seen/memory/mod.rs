//! The in-process duplicate store, on a quick_cache cache.

use std::fmt;
use std::future::{self, Future};
use std::time::{Duration, Instant};

use quick_cache::sync::{Cache, EntryAction, EntryResult};
use quick_cache::{DefaultHashBuilder, Lifecycle, OptionsBuilder, UnitWeighter};

use super::{Claim, DEFAULT_LEASE, DEFAULT_TTL, SeenStore, StoreError};
use crate::delivery::DeliveryKey;

/// A [`SeenStore`] in this process's memory: the default store of a
/// [`Dispatcher`](crate::delivery::Dispatcher), on a
/// [quick_cache](https://docs.rs/quick_cache) cache.
///
/// - **Bounded.** It holds `capacity` processed deliveries (100,000 by
///   default), and its memory grows with use up to about 107 bytes per
///   delivery of capacity: 10.7 MB at the default (measured by
///   `tests/memory_bound.rs` under a million distinct deliveries). Past
///   that, it forgets processed deliveries in about the order they came (a
///   late duplicate of one would be processed again, never lost). The cache
///   is split into 8 shards, whatever the machine, and they fill unevenly:
///   at the full rate of `capacity` deliveries per TTL a few are forgotten
///   early (187 to 633 of 100,000 in the tests), at half that rate none.
///   Size it above the deliveries you receive per TTL.
/// - **Expiring.** A processed delivery counts as seen for
///   [`ttl`](Self::ttl) after its completion ([`DEFAULT_TTL`], one hour); an
///   in-progress mark for [`lease`](Self::lease) after its claim or its last
///   renewal ([`DEFAULT_LEASE`], 30 seconds; the dispatcher renews it while
///   the handler runs). An expired mark is ignored and its
///   place taken when the cache needs room.
/// - **Never forgets work in progress.** A delivery being processed is
///   pinned in the cache until its lease runs out, so that a copy arriving
///   meanwhile is told to retry (`409`) rather than run at the same time.
///   Pinned marks are held beyond the capacity if need be: more than
///   `capacity` deliveries claimed within one lease grow the cache past its
///   bound until their leases end.
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

    /// How long an in-progress mark lasts if it is neither completed,
    /// released nor renewed, counted from its claim or last renewal. The
    /// dispatcher renews it every third of it while the handler runs; keep
    /// it under a minute, so that FoxReach's first retry is processed if
    /// the process died.
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
                // Only if the place was removed meanwhile (`remove`, `insert`,
                // which this store never calls): a retry would lose nothing.
                Err(_) => Claim::InProgress,
            },
            // Not returned for this callback (never `Remove`) without a timeout.
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

    fn renew_at(&self, key: &DeliveryKey, now: Instant) -> bool {
        let until = deadline(now, self.lease);
        // Only a live claim is extended: an expired one, a done one and a
        // vacant place are left as they are, as Redis leaves a key that is
        // gone.
        let found = self.marks.entry(key, None, |_, mark| {
            let extend = !mark.done && mark.is_live(now);
            if extend {
                mark.until = until;
            }
            EntryAction::Retain(extend)
        });
        matches!(found, EntryResult::Retained(true))
    }

    fn release_now(&self, key: &DeliveryKey) {
        // A vacant place is left as it was: there is nothing to forget.
        let _ = self.marks.entry(key, None, |_, mark| match mark.done {
            true => EntryAction::Retain(()),
            false => EntryAction::Remove,
        });
    }
}

/// The shards of the cache. Fixed rather than quick_cache's default (four
/// per core) because each shard holds its share of the capacity and they
/// fill unevenly: how many deliveries are forgotten early grows with their
/// number, and should not depend on the machine.
const SHARDS: usize = 8;

/// The cache behind a store of `capacity`.
fn cache(capacity: usize) -> Cache<DeliveryKey, Mark, UnitWeighter, DefaultHashBuilder, KeepInProgress> {
    let options = OptionsBuilder::new()
        .estimated_items_capacity(capacity)
        .weight_capacity(u64::try_from(capacity).unwrap_or(u64::MAX))
        .shards(SHARDS)
        .build()
        .expect("both capacities are set");
    Cache::with_options(options, UnitWeighter, DefaultHashBuilder::default(), KeepInProgress)
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

    fn renew(&self, key: &DeliveryKey) -> impl Future<Output = Result<bool, StoreError>> + Send {
        future::ready(Ok(self.renew_at(key, Instant::now())))
    }

    fn lease_duration(&self) -> Duration {
        self.lease
    }
}

#[cfg(test)]
mod tests;
