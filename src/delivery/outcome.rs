//! What became of a delivery, and whether FoxReach should send it again.

use std::fmt;

use super::error::BoxError;
use super::{HandlerError, StaleDelivery, StoreError};

/// What a [`Dispatcher`](super::Dispatcher) or an inbox (crate
/// `foxreach-inbox`) did with a verified delivery.
///
/// [`is_acknowledged`](Self::is_acknowledged) says whether to answer 2xx
/// (FoxReach will not send it again) or not (FoxReach retries after 1, 5 and
/// 30 minutes). With feature `http`, `Outcome::status` gives the HTTP status.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// The handler ran and succeeded.
    Processed,
    /// The same delivery was already processed (by a dispatcher) or is
    /// kept already, in any state (by an inbox); the handler does not run
    /// for this copy.
    Duplicate,
    /// The same delivery is being processed right now (FoxReach sent it
    /// twice at once); this copy is refused so that one of them is retried
    /// if the first fails.
    InProgress,
    /// The handler failed. Retryable failures are not acknowledged; permanent
    /// ones are, and were logged.
    Failed(HandlerError),
    /// The handler panicked. The panic was caught and logged, the claim
    /// released, and the delivery is not acknowledged, so that FoxReach's
    /// retry runs the handler again.
    Panicked,
    /// The handler was still running when the answer budget ran out. It
    /// goes on; the delivery is not acknowledged, so that FoxReach retries,
    /// and the retry finds it done, still running, or released after a
    /// failure.
    StillRunning,
    /// The dispatcher is [shutting down](super::Dispatcher::shutdown): the
    /// handler did not run, and FoxReach will retry.
    ShuttingDown,
    /// The signed timestamp is outside the replay window.
    Stale(StaleDelivery),
    /// The duplicate store could not be reached, so the handler did not run.
    StoreUnavailable(StoreError),
    /// The delivery is kept durably in an inbox, for its workers to
    /// process: FoxReach need not send it again.
    Kept,
    /// The inbox could not keep the delivery (logged), so FoxReach retries.
    /// The error is the inbox's own: `error.downcast_ref::<foxreach_inbox::InboxError>()`.
    InboxUnavailable(BoxError),
    /// The inbox is at its bound on open entries: the delivery is refused
    /// so that FoxReach keeps it and retries while the workers catch up.
    /// The error is the inbox's own, saying how many entries are open.
    InboxFull(BoxError),
}

impl Outcome {
    /// Whether the delivery is settled and FoxReach should not send it again
    /// (answer 2xx).
    #[must_use]
    pub fn is_acknowledged(&self) -> bool {
        match self {
            Self::Processed | Self::Duplicate | Self::Kept => true,
            Self::Failed(error) => !error.is_retryable(),
            Self::InProgress
            | Self::Panicked
            | Self::StillRunning
            | Self::ShuttingDown
            | Self::Stale(_)
            | Self::StoreUnavailable(_)
            | Self::InboxUnavailable(_)
            | Self::InboxFull(_) => false,
        }
    }
}

/// A short sentence for the response body and logs; never the secret or the body.
impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stale(stale) => write!(f, "refused: {stale}"),
            _ => f.write_str(self.fixed_text().unwrap_or_default()),
        }
    }
}

impl Outcome {
    /// The outcome's name in metrics (`foxreach_webhooks_deliveries_total`'s
    /// `outcome` label): a fixed set, see [`crate::observe`].
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Duplicate => "duplicate",
            Self::InProgress => "in_progress",
            Self::Failed(error) if error.is_retryable() => "failed_retryable",
            Self::Failed(_) => "failed_permanent",
            Self::Panicked => "panicked",
            Self::StillRunning => "still_running",
            Self::ShuttingDown => "shutting_down",
            Self::Stale(_) => "stale",
            Self::StoreUnavailable(_) => "store_unavailable",
            Self::Kept => "kept",
            Self::InboxUnavailable(_) => "inbox_unavailable",
            Self::InboxFull(_) => "inbox_full",
        }
    }

    /// The sentence of every outcome but [`Outcome::Stale`], which says by
    /// how much: static, so that answering costs no formatting.
    pub(crate) fn fixed_text(&self) -> Option<&'static str> {
        Some(match self {
            Self::Processed => "processed",
            Self::Duplicate => "duplicate of a delivery already accepted; not processed again",
            Self::InProgress => "duplicate of a delivery being processed now; send it again later",
            Self::Failed(error) if error.is_retryable() => {
                "the handler failed; send it again later (the receiver's logs say why)"
            }
            Self::Failed(_) => {
                "accepted but not processed: the handler failed permanently (the receiver's logs say why)"
            }
            Self::Panicked => "the handler panicked; send it again later (the receiver's logs say where)",
            Self::StillRunning => "still processing after the answer budget; send it again later",
            Self::ShuttingDown => "the receiver is shutting down; send it again later",
            Self::StoreUnavailable(_) => {
                "the duplicate store is unavailable; send it again later (the receiver's logs say why)"
            }
            Self::Kept => "kept in the inbox; it will be processed",
            Self::InboxUnavailable(_) => "the inbox is unavailable; send it again later (the receiver's logs say why)",
            Self::InboxFull(_) => "the inbox is full; send it again later, once its workers have caught up",
            Self::Stale(_) => return None,
        })
    }
}
