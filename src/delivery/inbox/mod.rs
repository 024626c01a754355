//! The durable inbox (work in progress for issue 13): deliveries kept on
//! disk before FoxReach is answered, and taken from there by workers.
//!
//! An [`Inbox`] is the small trait every engine implements (SQLite here,
//! Redis Streams next), so that the HTTP glue and the workers stay one
//! pipeline. Its states, for one delivery:
//!
//! - **pending**: appended, or scheduled again after a retryable failure,
//!   and due at a given time;
//! - **taken**: a worker holds it until its lease ends; a lease that ends
//!   makes it due again (the worker died), and each taking counts an
//!   attempt;
//! - **done**: processed; kept for the retention, so that a duplicate is
//!   recognized also after a restart;
//! - **dead**: a dead letter, kept with its reason until it is replayed or
//!   purged.
//!
//! A worker settles what it took with the attempt it took: a worker whose
//! lease ran out, and whose entry another worker took since, settles
//! nothing.
//!
//! Status (branch `inbox`, issue 13): the trait, [`SqliteInbox`] with group
//! commit, and [`Workers`] are built and tested. Not yet: the HTTP glue
//! (the plan: a small `Receive` trait in `delivery`, implemented by the
//! `Dispatcher` and by an inbox wrapper that appends and answers `202`, so
//! that `router` and `receiver` stay one pipeline generic over it), a
//! retention purge of done entries, the `cli` binary, the example receiver
//! on the inbox, and the kill -9 and outage scenarios.

#[cfg(feature = "sqlite")]
mod sqlite;
mod worker;

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteInbox;
pub use worker::{Backoff, Workers};

use super::DeliveryKey;
use super::error::BoxError;

/// A delivery's number in its inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId(pub i64);

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A verified delivery, to append.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewEntry {
    /// Its duplicate key (see [`DeliveryKey`]).
    pub key: DeliveryKey,
    /// The raw body, exactly as verified.
    pub body: Bytes,
    /// When it arrived.
    pub received_at: SystemTime,
}

impl NewEntry {
    /// A delivery that arrived at `received_at`.
    #[must_use]
    pub fn new(key: DeliveryKey, body: Bytes, received_at: SystemTime) -> Self {
        Self { key, body, received_at }
    }
}

/// What [`Inbox::append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// The delivery is now on disk, under this id.
    New(EntryId),
    /// A delivery with the same key is already kept (in any state).
    Duplicate(EntryId),
}

/// An entry a worker took, with the attempt that settles it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Taken {
    /// The entry.
    pub id: EntryId,
    /// Which taking this is (1 for the first): settle with it.
    pub attempt: u32,
    /// Its duplicate key.
    pub key: DeliveryKey,
    /// The raw body.
    pub body: Bytes,
    /// When it arrived.
    pub received_at: SystemTime,
}

/// How a taken entry ends its attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Processed.
    Done,
    /// Failed retryably: pending again, due at this time.
    RetryAt(SystemTime, String),
    /// A dead letter, with its reason.
    Dead(String),
}

/// How many entries are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Appended or scheduled again, not taken.
    pub pending: u64,
    /// Held by a worker (or by one whose lease ran out).
    pub taken: u64,
    /// Processed, kept for duplicate suppression.
    pub done: u64,
    /// Dead letters.
    pub dead: u64,
}

/// Where verified deliveries are kept until they are processed.
pub trait Inbox: Send + Sync + 'static {
    /// Appends `entry` durably, unless a delivery with its key is kept
    /// already. Returns once the entry would survive a crash.
    fn append(&self, entry: NewEntry) -> impl Future<Output = Result<Appended, InboxError>> + Send;

    /// Takes up to `max` entries that are due (pending and due, or taken
    /// with a lease that ended), oldest due first, for `lease`.
    fn take(&self, max: usize, lease: Duration) -> impl Future<Output = Result<Vec<Taken>, InboxError>> + Send;

    /// Extends the lease of entries still held at these attempts.
    fn renew(&self, held: Vec<(EntryId, u32)>, lease: Duration) -> impl Future<Output = Result<(), InboxError>> + Send;

    /// Ends attempts: each entry still held at its attempt is settled as
    /// said; an entry taken again since is left to its new holder.
    fn settle(&self, settled: Vec<(EntryId, u32, Settle)>) -> impl Future<Output = Result<(), InboxError>> + Send;

    /// How many entries are in each state.
    fn stats(&self) -> impl Future<Output = Result<Stats, InboxError>> + Send;
}

/// The inbox could not do what was asked: its file is locked or corrupt,
/// the disk is full. A delivery that could not be appended is not
/// acknowledged, so FoxReach retries it.
pub struct InboxError(BoxError);

impl InboxError {
    /// Wraps the engine's own error.
    pub fn new(error: impl Into<BoxError>) -> Self {
        Self(error.into())
    }
}

impl fmt::Display for InboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the inbox failed: {}", self.0)
    }
}

impl fmt::Debug for InboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("InboxError").field(&self.0).finish()
    }
}

impl StdError for InboxError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.0)
    }
}
