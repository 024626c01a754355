//! A durable inbox for [FoxReach](https://foxreach.io) webhooks, beside
//! `foxreach-webhooks`: every verified delivery is kept (in one SQLite file,
//! or in Redis Streams for several machines) before FoxReach is answered,
//! and processed from there by [`Workers`] with leases, a [`Backoff`] that
//! outlasts FoxReach's retries (after 1, 5 and 30 minutes), and dead
//! letters kept with their reason.
//!
//! # Quick start
//!
//! ```no_run
//! use std::time::Duration;
//! use foxreach_inbox::{SqliteInbox, Workers};
//! use foxreach_webhooks::Verifier;
//! use foxreach_webhooks::delivery::{Delivery, Handled, Handler};
//! use foxreach_webhooks::event::ReplyReceived;
//!
//! struct App;
//!
//! impl Handler for App {
//!     async fn reply_received(&self, reply: ReplyReceived, _: Delivery<'_>) -> Handled {
//!         println!("lead {} replied", reply.lead_id);
//!         Ok(())
//!     }
//! }
//!
//! # async fn serve(_: axum::Router) {}
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let inbox = SqliteInbox::open("foxreach-inbox.sqlite3")?;
//! let verifier = Verifier::new("the-webhook-secret")?;
//! // `202` once a delivery is on disk, `200` for a duplicate, `503` if it cannot be kept.
//! let app = foxreach_webhooks::http::axum::router("/webhooks/foxreach", verifier, inbox.clone());
//! let workers = Workers::new(App, inbox);
//! tokio::join!(serve(app), workers.run(std::future::pending(), Duration::from_secs(10)));
//! # Ok(()) }
//! ```
//!
//! # How an entry lives
//!
//! An [`Inbox`] is the small trait every engine implements, so that the
//! HTTP glue and the workers stay one pipeline whatever the engine. Its
//! states, for one delivery:
//! - **pending**: appended, or scheduled again after a retryable failure,
//!   and due at a given time;
//! - **taken**: a worker holds it until its lease ends; a lease that ends
//!   makes it due again (the worker died), and each taking counts an
//!   attempt;
//! - **done**: processed; kept for the retention, so that a duplicate is
//!   recognized also after a restart;
//! - **dead**: a dead letter, kept with its reason until it is replayed.
//!
//! A worker settles what it took with the attempt it took: a worker whose
//! lease ran out, and whose entry another worker took since, settles
//! nothing. Processing is therefore at least once: a worker that dies
//! mid-handler, or cannot renew its lease for longer than the lease (the
//! inbox unreachable), leaves the entry to be taken again, by a worker of
//! another process even while the first handler still runs. Within one
//! [`Workers`], an entry never runs twice at once.
//!
//! The HTTP glue of `foxreach-webhooks` takes an inbox wherever it takes a
//! [`Dispatcher`](foxreach_webhooks::delivery::Dispatcher) (both implement
//! [`Receive`](foxreach_webhooks::delivery::Receive), the engines here
//! through [`keep`]): the answer is `202` once the delivery is on disk,
//! `200` for a duplicate of any entry kept, `503` if the inbox fails or is
//! full. [`Workers`] run the same
//! [`Handler`](foxreach_webhooks::delivery::Handler) on the entries through
//! the same executor
//! ([`execute`](foxreach_webhooks::delivery::execute)), with the same
//! typing, degrading and replay rules, and retry on a [`Backoff`] that
//! outlasts FoxReach's schedule. Done entries are kept for the
//! retention ([`DEFAULT_RETENTION`], 7 days), so a duplicate is recognized
//! also after a restart; what cannot be processed is a dead letter, kept
//! with its reason until `foxreach-webhooks inbox replay` (crate `foxreach-cli`)
//! runs it again.
//!
//! # Engines
//!
//! | feature | default | engine |
//! | --- | --- | --- |
//! | `sqlite` | yes | [`SqliteInbox`]: one SQLite file (compiled in), for one machine |
//! | `redis` | | [`RedisInbox`]: Redis Streams (7.0 or later), shared by several machines |
//! | `metrics` | | retries, dead letters and the backlog's gauges, named in `foxreach_webhooks::observe` |
//!
//! Engines are features of this one crate rather than crates of their own:
//! they share the trait, the entry types, the workers and a conformance
//! suite (`tests/inbox_conformance.rs`), and each feature pulls in only its
//! driver.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod attempt;
mod backoff;
mod entry;
mod error;
mod observe;
mod receive;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;
mod worker;

use std::future::Future;
use std::time::{Duration, SystemTime};

pub use backoff::Backoff;
pub use entry::{Appended, Backlog, Entry, EntryId, NewEntry, Replay, Settle, State, Stats, Taken};
pub use error::InboxError;
pub use receive::keep;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{Durability, RedisInbox};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteInbox;
pub use worker::{DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_RETENTION, Workers};

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

    /// [`settle`](Self::settle), then [`take`](Self::take), in one step
    /// where the engine can (one commit instead of two): what a worker does
    /// each time handlers finish.
    fn settle_and_take(
        &self,
        settled: Vec<(EntryId, u32, Settle)>,
        max: usize,
        lease: Duration,
    ) -> impl Future<Output = Result<Vec<Taken>, InboxError>> + Send {
        async move {
            self.settle(settled).await?;
            self.take(max, lease).await
        }
    }

    /// How many entries are in each state.
    fn stats(&self) -> impl Future<Output = Result<Stats, InboxError>> + Send;

    /// What is not processed yet, without counting done entries. Engines
    /// whose [`stats`](Self::stats) is costly override it; by default it
    /// asks `stats` and leaves [`Backlog::oldest_open`] unknown (`None`).
    fn backlog(&self) -> impl Future<Output = Result<Backlog, InboxError>> + Send {
        async move {
            let stats = self.stats().await?;
            Ok(Backlog { pending: stats.pending, taken: stats.taken, dead: stats.dead, oldest_open: None })
        }
    }

    /// Whether deliveries can be kept now, for a readiness probe: `Ok`
    /// when an append made now would be kept. Engines probe with a write
    /// (a lock held elsewhere, a full disk, a server refusing writes show
    /// up), check that their storage is still the one they opened, and
    /// refuse past their bound on open entries. By default it reads the
    /// [`backlog`](Self::backlog).
    ///
    /// # Errors
    ///
    /// [`InboxError`] saying why not: the same error an append would meet
    /// ([`InboxError::is_full`] past the bound).
    fn ready(&self) -> impl Future<Output = Result<(), InboxError>> + Send {
        async move { self.backlog().await.map(drop) }
    }

    /// Up to `limit` entries after `after` (by id), in `state` or in any;
    /// without their bodies.
    fn list(
        &self,
        state: Option<State>,
        after: Option<EntryId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Entry>, InboxError>> + Send;

    /// One entry, with its body, or `None` if there is none with this id.
    fn entry(&self, id: EntryId) -> impl Future<Output = Result<Option<Entry>, InboxError>> + Send;

    /// Makes entries pending again, due now, on a new schedule (their
    /// attempt count goes on, their reason stays until the next attempt).
    /// Returns how many: a single entry that is pending or taken, or that
    /// does not exist, is left as it is and counts 0.
    fn replay(&self, which: Replay) -> impl Future<Output = Result<u64, InboxError>> + Send;

    /// Deletes the done entries settled before `done_before`, ending their
    /// duplicate suppression; returns how many.
    fn purge(&self, done_before: SystemTime) -> impl Future<Output = Result<u64, InboxError>> + Send;

    /// Resolves when this process may have appended an entry since the
    /// last time it resolved, so that [`Workers`] start it at once instead
    /// of at their next look. By default it never resolves, and workers
    /// find new entries at their next look.
    fn appended(&self) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }
}

/// The README's Rust example, compiled as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
