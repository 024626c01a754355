//! The inbox in one SQLite file (WAL, `synchronous=FULL`), written by one
//! thread that commits what arrives together in one transaction: a commit
//! costs about 160 µs on this project's machine, an append in a commit of
//! 200 about 3.5 µs, so durability need not serialize requests.

mod bound;
mod checkpoint;
mod identity;
mod sql;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bound::OpenCount;
use identity::Identity;
use rusqlite::{Connection, OpenFlags, Transaction};
use tokio::sync::Notify;
use writer::Access;

use super::backoff::later;
use super::{Appended, Backlog, Entry, EntryId, Inbox, InboxError, NewEntry, Replay, Settle, State, Stats, Taken};

/// The durable inbox in a SQLite file (feature `sqlite`): see [`Inbox`]
/// for its states. It needs a Tokio runtime with its time driver, as
/// `#[tokio::main]` builds: an append's wait for its commit is bounded.
///
/// Every operation goes to one writer thread, which takes whatever has
/// arrived (up to 512 operations), applies them in one transaction (each
/// that writes with several statements in a savepoint of its own), commits,
/// and only then answers each caller: an [`append`](Inbox::append) that
/// returned is on disk. Past 4,096 operations waiting, an append fails at
/// once (the receiver answers `503`). Cloning shares the
/// writer; the thread ends when the last clone is dropped.
///
/// Several processes may open one file (the command-line tool beside a
/// running receiver): SQLite locks it. A receiver ([`open`](Self::open))
/// waits up to 1 second for another process's transaction, and an append
/// is answered within 2 seconds whatever the disk does (`503` otherwise),
/// well before FoxReach gives up after 5; the command-line tool
/// ([`open_existing`](Self::open_existing)) waits up to 5 seconds.
///
/// **Files deleted or replaced.** SQLite keeps writing to the files it
/// opened even once they are deleted or replaced under it (a clean-up
/// script, a volume mounted again), where the next start will not find
/// them. Before each commit that appends, the inbox checks that the file
/// and its `-wal` and `-shm` companions at its path are still the ones it
/// opened (their device and inode, on Unix); if not, appends and
/// [`ready`](Inbox::ready) fail (`503`) until the process is restarted,
/// while its workers go on with what the old file holds.
///
/// **Space.** Under load the write-ahead log grows to about 40 MB (a
/// checkpoint every 10,000 pages, which keeps the batching fast); a log
/// that has held writes for a second is emptied as soon as the writer has
/// had nothing to do for 5 ms, so a trickle of deliveries holds about a
/// second of log, an idle inbox none, and space freed on a full disk stays
/// free.
#[derive(Clone, Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub struct SqliteInbox {
    writer: writer::Writer,
    /// Wakes this process's workers when it appends.
    appended: Arc<Notify>,
    /// The bound on open entries, if any.
    max_open: Option<u64>,
    /// Open entries, for the bound; shared by clones, as the writer is.
    open: Arc<OpenCount>,
}

/// How long a receiver waits for another process's lock: a locked inbox
/// answers `503` within about twice this (see [`SqliteInbox`]).
const LOCK_WAIT: Duration = Duration::from_secs(1);

/// How long the command-line tool waits for a receiver's lock.
const TOOL_LOCK_WAIT: Duration = Duration::from_secs(5);

impl SqliteInbox {
    /// Opens the inbox in the file at `path`, creating the file if there is
    /// none (on Unix readable by its owner alone: it holds FoxReach's data
    /// about your leads; SQLite gives its `-wal` and `-shm` files the same
    /// mode). The inbox's tables are created only in an empty file.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the file cannot be opened or created, is not a
    /// SQLite database, is locked by another process for more than 5
    /// seconds, or holds an inbox of another schema version.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, InboxError> {
        let path = path.as_ref();
        create_private(path).map_err(InboxError::new)?;
        Self::start(Connection::open(path).map_err(InboxError::new)?, Some(path), true, LOCK_WAIT)
    }

    /// Opens the inbox in the file at `path`, which must exist and hold an
    /// inbox (the command-line tool, which must not create one where the
    /// user mistyped a path).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open), and if there is no file at `path` or it
    /// holds no inbox.
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self, InboxError> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(InboxError::new(format!("there is no inbox at {}", path.display())));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Self::start(
            Connection::open_with_flags(path, flags).map_err(InboxError::new)?,
            Some(path),
            false,
            TOOL_LOCK_WAIT,
        )
    }

    /// An inbox in memory, for tests: it is lost with the process.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if SQLite cannot create it.
    pub fn in_memory() -> Result<Self, InboxError> {
        Self::start(Connection::open_in_memory().map_err(InboxError::new)?, None, true, LOCK_WAIT)
    }

    fn start(
        connection: Connection,
        path: Option<&Path>,
        create: bool,
        lock_wait: Duration,
    ) -> Result<Self, InboxError> {
        sql::prepare(&connection, create, lock_wait).map_err(InboxError::new)?;
        // After `prepare`, which made the -wal and -shm files.
        let identity = path.map(Identity::of).transpose().map_err(InboxError::new)?;
        Ok(Self {
            writer: writer::Writer::start(connection, identity, lock_wait)?,
            appended: Arc::new(Notify::new()),
            max_open: None,
            open: Arc::default(),
        })
    }

    /// Refuses appends while `max` entries or more are open (pending or
    /// taken): deliveries past it are answered `503` with `Retry-After`
    /// ([`Outcome::InboxFull`](foxreach_webhooks::delivery::Outcome::InboxFull)), so
    /// that FoxReach keeps them and retries while the workers catch up, and
    /// [`ready`](Inbox::ready) fails; 0 refuses every delivery. Off by
    /// default. The count is at most a second old, plus this process's
    /// appends since: with one process appending, the bound errs towards
    /// refusing early; appends of other processes sharing the file show up
    /// at the next count. FoxReach stops retrying 36 minutes after a first
    /// failure: set it where the workers catch up well within that.
    #[must_use]
    pub fn max_open_entries(mut self, max: u64) -> Self {
        self.max_open = Some(max);
        self
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, InboxError> {
        self.writer.run(Access::Write, work).await
    }

    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, InboxError> {
        self.writer.run(Access::Read, work).await
    }

    pub(super) async fn take_at(&self, max: usize, lease: Duration, now: SystemTime) -> Result<Vec<Taken>, InboxError> {
        let (now, lease_end) = (millis(now), millis(later(now, lease)));
        self.run(move |transaction| sql::take(transaction, max, lease_end, now)).await
    }

    pub(super) async fn settle_at(
        &self,
        settled: Vec<(EntryId, u32, Settle)>,
        now: SystemTime,
    ) -> Result<(), InboxError> {
        let now = millis(now);
        self.run(move |transaction| sql::settle(transaction, settled, now)).await
    }

    pub(super) async fn renew_at(
        &self,
        held: Vec<(EntryId, u32)>,
        lease: Duration,
        now: SystemTime,
    ) -> Result<(), InboxError> {
        let lease_end = millis(later(now, lease));
        self.run(move |transaction| sql::renew(transaction, &held, lease_end)).await
    }

    pub(super) async fn replay_at(&self, which: Replay, now: SystemTime) -> Result<u64, InboxError> {
        let now = millis(now);
        self.run(move |transaction| sql::replay(transaction, which, now)).await
    }
}

impl Inbox for SqliteInbox {
    async fn append(&self, entry: NewEntry) -> Result<Appended, InboxError> {
        let (max_open, open) = (self.max_open, self.open.clone());
        let appended = self
            .writer
            .run(Access::Keep, move |transaction| {
                if let Some(id) = sql::duplicate(transaction, &entry.key)? {
                    return Ok(Ok(Appended::Duplicate(id)));
                }
                if let Some(full) = full(transaction, max_open, &open)? {
                    return Ok(Err(full));
                }
                let id = sql::insert(transaction, &entry)?;
                open.appended();
                Ok(Ok(Appended::New(id)))
            })
            .await??;
        if let Appended::New(_) = appended {
            self.appended.notify_one();
        }
        Ok(appended)
    }

    async fn ready(&self) -> Result<(), InboxError> {
        let (max_open, open) = (self.max_open, self.open.clone());
        self.writer
            .run(Access::Keep, move |transaction| {
                sql::probe(transaction)?;
                Ok(full(transaction, max_open, &open)?.map_or(Ok(()), Err))
            })
            .await?
    }

    async fn appended(&self) {
        self.appended.notified().await;
    }

    async fn take(&self, max: usize, lease: Duration) -> Result<Vec<Taken>, InboxError> {
        self.take_at(max, lease, SystemTime::now()).await
    }

    async fn renew(&self, held: Vec<(EntryId, u32)>, lease: Duration) -> Result<(), InboxError> {
        self.renew_at(held, lease, SystemTime::now()).await
    }

    async fn settle(&self, settled: Vec<(EntryId, u32, Settle)>) -> Result<(), InboxError> {
        self.settle_at(settled, SystemTime::now()).await
    }

    async fn settle_and_take(
        &self,
        settled: Vec<(EntryId, u32, Settle)>,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Taken>, InboxError> {
        let now = SystemTime::now();
        let (now, lease_end) = (millis(now), millis(later(now, lease)));
        self.run(move |transaction| {
            sql::settle(transaction, settled, now)?;
            sql::take(transaction, max, lease_end, now)
        })
        .await
    }

    async fn stats(&self) -> Result<Stats, InboxError> {
        self.read(sql::stats).await
    }

    async fn backlog(&self) -> Result<Backlog, InboxError> {
        self.read(sql::backlog).await
    }

    async fn list(&self, state: Option<State>, after: Option<EntryId>, limit: usize) -> Result<Vec<Entry>, InboxError> {
        self.read(move |transaction| sql::list(transaction, state, after, limit)).await
    }

    async fn entry(&self, id: EntryId) -> Result<Option<Entry>, InboxError> {
        self.read(move |transaction| sql::entry(transaction, id)).await
    }

    async fn replay(&self, which: Replay) -> Result<u64, InboxError> {
        self.replay_at(which, SystemTime::now()).await
    }

    async fn purge(&self, done_before: SystemTime) -> Result<u64, InboxError> {
        let before = millis(done_before);
        self.run(move |transaction| sql::purge(transaction, before)).await
    }
}

/// The refusal of an append past the bound, if there is one and it is reached.
fn full(
    transaction: &Transaction<'_>,
    max_open: Option<u64>,
    open: &OpenCount,
) -> rusqlite::Result<Option<InboxError>> {
    let Some(limit) = max_open else { return Ok(None) };
    let open = open.get(transaction)?;
    Ok((open >= limit).then(|| InboxError::full(open, limit)))
}

/// Creates the file at `path` if there is none, with mode 0600 on Unix.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// Unix milliseconds (0 before the epoch, which no clock here shows).
fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

fn from_millis(at: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(at).unwrap_or(0))
}

#[cfg(test)]
mod tests;
