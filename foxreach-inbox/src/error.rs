//! Why an inbox did not do what was asked.

use std::error::Error as StdError;
use std::fmt;

/// Any error an engine reports.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// The inbox could not do what was asked: its file is locked, deleted or
/// corrupt, the disk is full, Redis refuses writes, or the inbox is at its
/// bound on open entries ([`is_full`](Self::is_full)). A delivery that
/// could not be appended is not acknowledged (`503` with `Retry-After`), so
/// FoxReach retries it.
pub struct InboxError(Kind);

enum Kind {
    Failed(BoxError),
    Full { open: u64, limit: u64 },
}

impl InboxError {
    /// Wraps the engine's own error.
    pub fn new(error: impl Into<BoxError>) -> Self {
        Self(Kind::Failed(error.into()))
    }

    /// The inbox holds `open` entries not processed yet (pending or taken),
    /// at or past its bound `limit`: appends are refused until its workers
    /// catch up.
    #[must_use]
    pub fn full(open: u64, limit: u64) -> Self {
        Self(Kind::Full { open, limit })
    }

    /// Whether the inbox refused because it is at its bound on open
    /// entries (back-pressure), rather than because it failed.
    #[must_use]
    pub fn is_full(&self) -> bool {
        matches!(self.0, Kind::Full { .. })
    }
}

impl fmt::Display for InboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Failed(error) => write!(f, "the inbox failed: {error}"),
            Kind::Full { open, limit } => write!(
                f,
                "the inbox is full: {open} entries wait to be processed, at its bound of {limit}; \
                 refusing new deliveries until the workers catch up"
            ),
        }
    }
}

impl fmt::Debug for InboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Failed(error) => f.debug_tuple("InboxError").field(error).finish(),
            Kind::Full { open, limit } => {
                f.debug_struct("InboxError").field("open", open).field("limit", limit).finish()
            }
        }
    }
}

impl StdError for InboxError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.0 {
            Kind::Failed(error) => Some(&**error),
            Kind::Full { .. } => None,
        }
    }
}
