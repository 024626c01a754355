//! Refusing deliveries whose signed timestamp is too old, or too far ahead.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use time::OffsetDateTime;

use crate::event::{Timestamp, TimestampError};

/// An opt-in bound on how old (or how far in the future) a delivery's signed
/// `timestamp` may be.
///
/// FoxReach signs no timestamp header, but the body's `timestamp` field is
/// signed, so a replayed body keeps its original time. Checking it bounds how
/// long a captured delivery can be replayed.
///
/// **Mind FoxReach's retries.** A retry carries the original timestamp and
/// comes 1, 5 and 30 minutes after the previous attempt: 36 minutes after the
/// first, more if FoxReach's queue is slow. A window shorter than that
/// refuses real retries, and an event whose every delivery was refused is
/// lost. Hence no default: choose at least [`ReplayWindow::COVERS_RETRIES`]
/// unless losing late retries is acceptable.
///
/// **What it closes.** A window alone only bounds replays to its length.
/// With duplicate suppression whose TTL is at least the window (the default
/// [`MemoryStore`](super::MemoryStore) TTL is one hour), a replay inside the
/// window is a duplicate and one outside it is stale, so no replay is ever
/// processed.
///
/// **What it refuses for good.** A delivery whose timestamp names no instant
/// ([`Timestamp::instant`] reads RFC 3339, ISO 8601 without an offset and
/// Unix seconds; a missing or `null` timestamp reads as nothing) is refused
/// with `403` on every attempt, so with a window on it is lost. That is the
/// window's point (an unknown age cannot be bounded); without a window such
/// a delivery is processed.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use foxreach_webhooks::delivery::ReplayWindow;
/// use foxreach_webhooks::event::Timestamp;
/// use time::macros::datetime;
///
/// let window = ReplayWindow::new(Duration::from_secs(60 * 60));
/// let now = datetime!(2025-01-15 11:00 UTC);
/// assert!(window.check_at(&Timestamp::new("2025-01-15T10:30:00Z"), now).is_ok());
/// assert!(window.check_at(&Timestamp::new("2025-01-15T09:30:00Z"), now).is_err());
///
/// // A sender's clock may run a minute ahead by default; here, five seconds.
/// let strict = window.with_max_future_skew(Duration::from_secs(5));
/// assert_eq!(strict.max_future_skew(), Duration::from_secs(5));
/// assert!(window.check_at(&Timestamp::new("2025-01-15T11:00:30Z"), now).is_ok());
/// assert!(strict.check_at(&Timestamp::new("2025-01-15T11:00:30Z"), now).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayWindow {
    max_age: Duration,
    max_future_skew: Duration,
}

impl ReplayWindow {
    /// The shortest window that lets every FoxReach retry through, with a
    /// margin: one hour (retries come 1, 5 and 30 minutes apart).
    pub const COVERS_RETRIES: Duration = Duration::from_secs(60 * 60);

    /// The default allowance for a sender's clock ahead of the receiver's: one minute.
    pub const DEFAULT_FUTURE_SKEW: Duration = Duration::from_secs(60);

    /// Refuses deliveries whose timestamp is more than `max_age` old, or more
    /// than [`DEFAULT_FUTURE_SKEW`](Self::DEFAULT_FUTURE_SKEW) ahead.
    #[must_use]
    pub const fn new(max_age: Duration) -> Self {
        Self { max_age, max_future_skew: Self::DEFAULT_FUTURE_SKEW }
    }

    /// Allows a timestamp to be up to `skew` ahead of the receiver's clock
    /// (instead of [`DEFAULT_FUTURE_SKEW`](Self::DEFAULT_FUTURE_SKEW)).
    #[must_use]
    pub const fn with_max_future_skew(mut self, skew: Duration) -> Self {
        self.max_future_skew = skew;
        self
    }

    /// How old a timestamp may be.
    #[must_use]
    pub const fn max_age(&self) -> Duration {
        self.max_age
    }

    /// How far ahead of the receiver's clock a timestamp may be.
    #[must_use]
    pub const fn max_future_skew(&self) -> Duration {
        self.max_future_skew
    }

    /// Checks `timestamp` against the system clock.
    ///
    /// # Errors
    ///
    /// [`StaleDelivery`] if the timestamp is too old, too far ahead, or not
    /// readable as an instant (its age cannot be known).
    pub fn check(&self, timestamp: &Timestamp) -> Result<(), StaleDelivery> {
        self.check_at(timestamp, OffsetDateTime::now_utc())
    }

    /// Checks `timestamp` as if the time were `now`.
    ///
    /// # Errors
    ///
    /// As [`check`](Self::check).
    pub fn check_at(&self, timestamp: &Timestamp, now: OffsetDateTime) -> Result<(), StaleDelivery> {
        let sent = timestamp.instant().map_err(StaleDelivery::Unreadable)?;
        let age = now - sent;
        if age.is_negative() {
            let ahead = age.unsigned_abs();
            return match ahead > self.max_future_skew {
                true => Err(StaleDelivery::FromTheFuture { ahead, max_skew: self.max_future_skew }),
                false => Ok(()),
            };
        }
        let age = age.unsigned_abs();
        match age > self.max_age {
            true => Err(StaleDelivery::TooOld { age, max_age: self.max_age }),
            false => Ok(()),
        }
    }
}

/// Why a delivery is outside the [`ReplayWindow`]. Its message says by how
/// much, so that a clock problem can be told from a replay.
#[derive(Debug)]
#[non_exhaustive]
pub enum StaleDelivery {
    /// The timestamp is older than the window allows.
    TooOld {
        /// How old it is.
        age: Duration,
        /// The window.
        max_age: Duration,
    },
    /// The timestamp is further ahead of the receiver's clock than allowed.
    FromTheFuture {
        /// How far ahead it is.
        ahead: Duration,
        /// The allowed skew.
        max_skew: Duration,
    },
    /// The timestamp names no instant this crate reads, so its age is unknown.
    Unreadable(TimestampError),
}

impl fmt::Display for StaleDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooOld { age, max_age } => write!(
                f,
                "the signed timestamp is {} s old, outside the replay window of {} s",
                age.as_secs(),
                max_age.as_secs()
            ),
            Self::FromTheFuture { ahead, max_skew } => write!(
                f,
                "the signed timestamp is {} s ahead of the receiver's clock (at most {} s allowed; check the clock)",
                ahead.as_secs(),
                max_skew.as_secs()
            ),
            Self::Unreadable(_) => {
                f.write_str("the signed timestamp is unreadable, so the replay window cannot be checked")
            }
        }
    }
}

impl StdError for StaleDelivery {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Unreadable(err) => Some(err),
            _ => None,
        }
    }
}
