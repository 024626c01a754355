//! The optional bound on open entries: how many there are, cheaply enough
//! to ask at every append.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::Transaction;

use super::sql;

/// How old a count may be before it is taken again. Between counts, this
/// process's appends are added and nothing is subtracted, so that the
/// bound errs on the side of refusing early; other processes' changes (the
/// command-line tool's replays) show up at the next count.
const RECOUNT_AFTER: Duration = Duration::from_secs(1);

/// Open entries (pending or taken), as last counted plus the appends since.
/// Only the writer thread uses it, from inside its transactions.
#[derive(Debug, Default)]
pub(super) struct OpenCount(Mutex<Option<(u64, Instant)>>);

impl OpenCount {
    /// Open entries now, counting them again (through the partial due
    /// index, in proportion to their number) when the last count is a
    /// second old.
    pub(super) fn get(&self, transaction: &Transaction<'_>) -> rusqlite::Result<u64> {
        let mut count = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match *count {
            Some((open, at)) if at.elapsed() < RECOUNT_AFTER => Ok(open),
            _ => {
                let open = sql::open_entries(transaction)?;
                *count = Some((open, Instant::now()));
                Ok(open)
            }
        }
    }

    /// Adds an append to the count, if there is one.
    pub(super) fn appended(&self) {
        if let Some((open, _)) = self.0.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            *open += 1;
        }
    }
}
