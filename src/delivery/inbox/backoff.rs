//! The schedule of retries after a retryable failure.

use std::time::{Duration, SystemTime};

/// When a retryable failure is tried again: `first` after the first
/// attempt, doubling up to `max_delay`, until `give_up_after` has passed
/// since the delivery arrived; then it is a dead letter.
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
        let at = now + self.delay(attempt);
        (at <= received_at + self.give_up_after).then_some(at)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::DEFAULT
    }
}
