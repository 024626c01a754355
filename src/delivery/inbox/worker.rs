//! Workers: take due entries from an [`Inbox`], run the application's
//! [`Handler`] on each (with the dispatcher's typing, degrading and replay
//! rules), and settle them: done, again later on a backoff, or a dead letter.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{Inbox, InboxError, Settle, Taken};
use crate::Event;
use crate::delivery::handler::handle;
use crate::delivery::run::{Panicked, poll_catching};
use crate::delivery::{Delivery, Handler, ReplayWindow};

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

/// Runs a [`Handler`] on the entries of an [`Inbox`].
#[derive(Debug)]
pub struct Workers<H, I> {
    handler: Arc<H>,
    inbox: Arc<I>,
    window: Option<ReplayWindow>,
    backoff: Backoff,
    lease: Duration,
    concurrency: usize,
    idle: Duration,
}

impl<H: Handler, I: Inbox> Workers<H, I> {
    /// Workers for `handler` on `inbox`: 16 handlers at once, a lease of
    /// 60 seconds (renewed while a handler runs), [`Backoff::DEFAULT`], no
    /// replay window, and a look for due entries every 200 ms when idle.
    #[must_use]
    pub fn new(handler: H, inbox: I) -> Self {
        Self {
            handler: Arc::new(handler),
            inbox: Arc::new(inbox),
            window: None,
            backoff: Backoff::DEFAULT,
            lease: Duration::from_secs(60),
            concurrency: 16,
            idle: Duration::from_millis(200),
        }
    }

    /// Refuses (as dead letters) deliveries outside `window`.
    #[must_use]
    pub fn replay_window(mut self, window: ReplayWindow) -> Self {
        self.window = Some(window);
        self
    }

    /// Retries on `backoff`.
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Holds each taken entry for `lease`, renewed every third of it while
    /// its handler runs; a worker that dies leaves it due after that.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Runs at most `concurrency` handlers at once (at least 1).
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The inbox.
    pub fn inbox(&self) -> &I {
        &self.inbox
    }

    /// Takes the entries that are due (up to the concurrency), runs their
    /// handlers together, renewing their leases, and settles them in one
    /// step. Returns how many it took.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the inbox could not be read or written. Entries it
    /// took and could not settle are due again when their lease ends.
    pub async fn run_once(&self) -> Result<usize, InboxError> {
        let taken = self.inbox.take(self.concurrency, self.lease).await?;
        if taken.is_empty() {
            return Ok(0);
        }
        let held: Vec<_> = taken.iter().map(|entry| (entry.id, entry.attempt)).collect();
        let mut running = tokio::task::JoinSet::new();
        for entry in taken {
            let (handler, window, backoff) = (Arc::clone(&self.handler), self.window, self.backoff);
            running.spawn(async move { (entry.id, entry.attempt, process(&*handler, window, backoff, entry).await) });
        }
        let mut settled = Vec::with_capacity(held.len());
        let every = (self.lease / 3).max(Duration::from_millis(10));
        loop {
            match tokio::time::timeout(every, running.join_next()).await {
                Ok(Some(Ok(done))) => settled.push(done),
                // `process` catches the handler's panics; a task that failed
                // otherwise leaves its entry to its lease.
                Ok(Some(Err(_))) => {}
                Ok(None) => break,
                Err(_) => {
                    let still: Vec<_> =
                        held.iter().copied().filter(|held| !settled.iter().any(|(id, _, _)| *id == held.0)).collect();
                    self.inbox.renew(still, self.lease).await?;
                }
            }
        }
        let count = held.len();
        self.inbox.settle(settled).await?;
        Ok(count)
    }

    /// Runs until `stop` resolves, then lets the handlers running finish for
    /// up to `grace`; what is still running then stays taken, due again
    /// when its lease ends (at the next start).
    pub async fn run(&self, stop: impl Future<Output = ()>, grace: Duration) {
        let mut stop = pin!(stop);
        loop {
            let mut batch = pin!(self.run_once());
            let (outcome, stopping) = tokio::select! {
                outcome = &mut batch => (outcome, false),
                () = &mut stop => match tokio::time::timeout(grace, batch).await {
                    Ok(outcome) => (outcome, true),
                    Err(_) => return,
                },
            };
            if stopping {
                return;
            }
            let rest = match outcome {
                Ok(0) => self.idle,
                Ok(_) => continue,
                Err(error) => {
                    tracing::error!(target: "foxreach_webhooks::inbox", %error, "the inbox failed; trying again");
                    self.idle
                }
            };
            tokio::select! {
                () = tokio::time::sleep(rest) => {}
                () = &mut stop => return,
            }
        }
    }
}

/// One entry's attempt: parse, check, handle, and say how it ends.
async fn process<H: Handler>(handler: &H, window: Option<ReplayWindow>, backoff: Backoff, entry: Taken) -> Settle {
    let event = match Event::from_slice_lenient(&entry.body) {
        Ok(event) => event,
        Err(error) => return Settle::Dead(format!("not a FoxReach event: {error}")),
    };
    if let Some(window) = window
        && let Err(stale) = window.check(&event.timestamp)
    {
        return Settle::Dead(stale.to_string());
    }
    let Event { timestamp, data, .. } = event;
    let delivery = Delivery { timestamp: &timestamp, body: &entry.body, key: entry.key };
    let mut handled = pin!(handle(handler, data, delivery));
    let failure = match poll_fn(|cx| poll_catching(handled.as_mut(), cx)).await {
        Ok(Ok(())) => return Settle::Done,
        Ok(Err(error)) if !error.is_retryable() => return Settle::Dead(error.source().to_string()),
        Ok(Err(error)) => error.source().to_string(),
        Err(Panicked) => "the handler panicked".to_owned(),
    };
    match backoff.next(entry.attempt, entry.received_at, SystemTime::now()) {
        Some(at) => Settle::RetryAt(at, failure),
        None => Settle::Dead(format!("gave up after {} attempts: {failure}", entry.attempt)),
    }
}
