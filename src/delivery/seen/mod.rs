//! Remembering which deliveries were seen, so that a duplicate is not
//! processed twice and a failure is not remembered at all.

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::RedisStore;

use super::DeliveryKey;
use super::error::BoxError;

/// How long a processed delivery is remembered by default: one hour, longer
/// than FoxReach's retries take (1, 5 and 30 minutes apart: 36 minutes).
pub const DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);

/// How long a delivery stays "in progress" by default unless renewed: 30
/// seconds. The [`Dispatcher`](super::Dispatcher) renews it every third of
/// it while the handler runs, so it only runs out when the process running
/// the handler is gone; it must end before FoxReach's first retry, a minute
/// later, so that the retry is processed.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// Where a delivery stands, as [`SeenStore::claim`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Not seen (or forgotten): it is now marked in progress, and the caller
    /// must [`complete`](SeenStore::complete) or [`release`](SeenStore::release) it.
    New,
    /// Another copy is being processed right now.
    InProgress,
    /// Already processed.
    Done,
}

/// A record of the deliveries seen recently, shared by every request a
/// receiver (or, with a shared store, every receiver) handles.
///
/// The [`Dispatcher`](super::Dispatcher) uses it so that nothing is lost:
///
/// 1. [`claim`](Self::claim) marks the delivery in progress, atomically: of
///    two concurrent copies, one gets [`Claim::New`].
/// 2. After the handler succeeds (or fails permanently),
///    [`complete`](Self::complete) marks it done for the store's TTL.
/// 3. After a retryable failure, [`release`](Self::release) forgets it, so
///    that FoxReach's retry is processed.
///
/// While the handler runs, [`renew`](Self::renew) extends the in-progress
/// mark every third of [`lease_duration`](Self::lease_duration), so that a
/// slow handler is never started a second time. A mark whose holder is gone
/// (the process died) is neither completed, released nor renewed: it expires
/// after the lease, shorter than FoxReach's first retry.
///
/// Implementations: [`MemoryStore`] (one process) and, with feature `redis`,
/// `RedisStore` (several receivers behind a load balancer).
pub trait SeenStore: Send + Sync + 'static {
    /// Marks `key` in progress unless it is already in progress or done.
    fn claim(&self, key: &DeliveryKey) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Marks `key` done, to be remembered for the store's TTL.
    fn complete(&self, key: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets an in-progress `key`, so that the next copy is processed.
    fn release(&self, key: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Extends an in-progress `key` by [`lease_duration`](Self::lease_duration)
    /// from now, because its handler is still running: `true` if it did.
    /// `false` if the key was no longer in progress (its lease ran out, or
    /// it is done), which is left as it is: the dispatcher logs that a copy
    /// may be running beside the handler.
    fn renew(&self, key: &DeliveryKey) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// How long an in-progress mark lasts unless renewed, completed or released.
    fn lease_duration(&self) -> Duration;
}

/// A shared store is a store: keep an `Arc` to inspect it, or to share one
/// store between dispatchers.
impl<T: SeenStore> SeenStore for Arc<T> {
    fn claim(&self, key: &DeliveryKey) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        (**self).claim(key)
    }

    fn complete(&self, key: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).complete(key)
    }

    fn release(&self, key: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).release(key)
    }

    fn renew(&self, key: &DeliveryKey) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).renew(key)
    }

    fn lease_duration(&self) -> Duration {
        (**self).lease_duration()
    }
}

/// A [`SeenStore`] could not answer: Redis is down, say. The delivery is not
/// processed and not acknowledged, so FoxReach retries it.
pub struct StoreError(BoxError);

impl StoreError {
    /// Wraps the store's own error.
    pub fn new(error: impl Into<BoxError>) -> Self {
        Self(error.into())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the duplicate store failed: {}", self.0)
    }
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StoreError").field(&self.0).finish()
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.0)
    }
}
