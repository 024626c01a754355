//! The schedule of retries after a retryable failure.

use std::time::{Duration, SystemTime};

/// When a retryable failure is tried again: `first` after the first
/// attempt, doubling up to `max_delay`, until `give_up_after` has passed
/// since the delivery arrived (or was last replayed); then it is a dead
/// letter. Durations too large to add to a time mean "never".
///
/// The default (5 s doubling to 30 minutes, for 24 hours: about 55
/// attempts) outlasts FoxReach's own schedule (1, 5 and 30 minutes), so a
/// downstream that is down for hours loses nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    max_delay: Duration,
    give_up_after: Duration,
}

impl Backoff {
    /// 5 seconds, doubling to 30 minutes, for 24 hours.
    pub const DEFAULT: Self =
        Self::new(Duration::from_secs(5), Duration::from_secs(30 * 60), Duration::from_secs(24 * 60 * 60));

    /// A backoff of `first`, doubling to `max_delay`, for `give_up_after`.
    #[must_use]
    pub const fn new(first: Duration, max_delay: Duration, give_up_after: Duration) -> Self {
        Self { first, max_delay, give_up_after }
    }

    /// The wait after the `attempt`th failure (1 for the first).
    #[must_use]
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.first.saturating_mul(factor).min(self.max_delay)
    }

    /// When to try again after the `attempt`th failure at `now`, or `None`
    /// if that would be past `give_up_after` from `received_at`.
    #[must_use]
    pub fn next(&self, attempt: u32, received_at: SystemTime, now: SystemTime) -> Option<SystemTime> {
        let at = later(now, self.delay(attempt));
        (at <= later(received_at, self.give_up_after)).then_some(at)
    }

    /// How many attempts the schedule allows at most (the first included),
    /// when each fails at once: 56 for [`Backoff::DEFAULT`]. An entry taken
    /// more often than that was retaken after leases that ran out (its
    /// handler killing the process, say), and becomes a dead letter rather
    /// than crash the workers forever.
    #[must_use]
    pub fn max_tries(&self) -> u32 {
        let start = SystemTime::UNIX_EPOCH;
        let (mut now, mut tries) = (start, 1u32);
        while let Some(at) = self.next(tries, start, now) {
            // A schedule that never ends, or one of zero delays, has no
            // useful bound: cap the count.
            if at == now || tries == 10_000 {
                return u32::MAX;
            }
            (now, tries) = (at, tries + 1);
        }
        tries
    }
}

/// `at + after`, or a time a century later where that cannot be written.
pub(super) fn later(at: SystemTime, after: Duration) -> SystemTime {
    at.checked_add(after).unwrap_or_else(|| at + Duration::from_secs(100 * 365 * 24 * 60 * 60))
}

impl Default for Backoff {
    fn default() -> Self {
        Self::DEFAULT
    }
}
