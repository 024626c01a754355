//! Giving the write-ahead log's space back.
//!
//! SQLite checkpoints the log every 10,000 pages (about 40 MB), which keeps
//! batching fast under load, and then reuses the file from its start
//! without shrinking it; `journal_size_limit` cuts it back to that size if
//! a long reader let it grow further. On its own, that leaves 40 MB held
//! for good, and a small volume full again soon after space was freed. So
//! the writer also empties the log (a `TRUNCATE` checkpoint) once it has
//! held writes for a second and then no operation has come for 5 ms: under
//! a trickle of deliveries (up to a hundred or so a second) the log stays at
//! about a second of writes, an idle inbox holds none, and under load, when
//! operations keep coming, the 40 MB cycle goes on untouched (emptying it
//! there cost 4% of the appends a second, measured with `inbox_append`).

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How long the log may hold writes before it is emptied, when the writer
/// has nothing else to do.
const HOLD: Duration = Duration::from_secs(1);

/// How long the writer must have had nothing to do before it empties the
/// log: a pause between deliveries, not the gap between a batch's answers
/// and the next batch.
const PAUSE: Duration = Duration::from_millis(5);

/// What the writer knows of the log.
#[derive(Debug)]
pub(super) struct Checkpoints {
    /// The connection's lock wait, set again after a truncation, which
    /// waits for nobody.
    lock_wait: Duration,
    /// SQLite's count of rows changed, as of the last batch.
    changes: u64,
    /// When the log took its first write since it was last emptied.
    written_since: Option<Instant>,
}

impl Checkpoints {
    pub(super) fn new(lock_wait: Duration) -> Self {
        Self { lock_wait, changes: 0, written_since: None }
    }

    /// The next operation, waiting as long as it takes; the log is emptied
    /// first if it has held writes for a second and nothing came for a
    /// [`PAUSE`]. `None` once every sender is gone.
    pub(super) fn next<T>(&mut self, connection: &Connection, incoming: &Receiver<T>) -> Option<T> {
        loop {
            let Some(since) = self.written_since else { return incoming.recv().ok() };
            let wait = HOLD.saturating_sub(since.elapsed()).max(PAUSE);
            match incoming.recv_timeout(wait) {
                Ok(job) => return Some(job),
                Err(RecvTimeoutError::Timeout) if since.elapsed() >= HOLD => self.truncate(connection),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Notes whether the batch just committed wrote anything: rows changed
    /// (a worker's look that took nothing changed none), or it `kept`
    /// (the readiness probe writes the header, changing no row).
    pub(super) fn after_batch(&mut self, connection: &Connection, kept: bool) {
        let changes = connection.total_changes();
        if (changes != self.changes || kept) && self.written_since.is_none() {
            self.written_since = Some(Instant::now());
        }
        self.changes = changes;
    }

    fn truncate(&mut self, connection: &Connection) {
        // Without a wait: a reader in another process (the command-line
        // tool) makes it give up and try again a second later, rather than
        // hold up the operations behind it.
        let emptied = connection
            .busy_timeout(Duration::ZERO)
            .and_then(|()| connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get::<_, i64>(0)));
        let _ = connection.busy_timeout(self.lock_wait);
        self.written_since = match emptied {
            Ok(0) => None,
            _ => Some(Instant::now()),
        };
    }
}
