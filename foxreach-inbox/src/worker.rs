//! Workers: take due entries from an [`Inbox`], run the application's
//! [`Handler`] on each (with the dispatcher's typing, degrading and replay
//! rules), and settle them: done, again later on a backoff, or a dead letter.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::{Id, JoinSet};
use tokio::time::{Instant, MissedTickBehavior};

use super::attempt::{Rules, process};
use super::{Backoff, EntryId, Inbox, InboxError, Settle, Taken};
use foxreach_webhooks::delivery::{Handler, ReplayWindow};

/// How long done entries are kept by default, so that a duplicate is
/// recognized: 7 days, far beyond FoxReach's last retry (36 minutes after
/// the first attempt) and any copy it sends by mistake.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// How often [`Workers::run`] purges done entries past the retention.
const PURGE_EVERY: Duration = Duration::from_secs(10 * 60);

/// How often [`Workers::run`] sets the inbox gauges (feature `metrics`).
#[cfg(feature = "metrics")]
const GAUGES_EVERY: Duration = Duration::from_secs(15);

/// Runs a [`Handler`] on the entries of an [`Inbox`].
#[derive(Debug)]
pub struct Workers<H, I> {
    handler: Arc<H>,
    inbox: I,
    rules: Rules,
    lease: Duration,
    concurrency: usize,
    idle: Duration,
    retention: Duration,
}

/// The handlers a worker runs, by task: the entry and the attempt each
/// settles with; and what finished but is not settled yet.
#[derive(Default)]
struct Pool {
    running: JoinSet<Settle>,
    held: HashMap<Id, (EntryId, u32)>,
    unsettled: Vec<(EntryId, u32, Settle)>,
}

/// The longest wait between looks while the inbox keeps failing.
const MAX_REST: Duration = Duration::from_secs(5);

/// The shortest lease: renewals come every third of it.
const MIN_LEASE: Duration = Duration::from_millis(100);

/// How long one attempt may run by default: 5 minutes.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

impl<H: Handler, I: Inbox + Clone> Workers<H, I> {
    /// Workers for `handler` on `inbox`: 16 handlers at once, a lease of
    /// 60 seconds (renewed every 20 while a handler runs),
    /// [`Backoff::DEFAULT`], no replay window, done entries kept for
    /// [`DEFAULT_RETENTION`], attempts cut at [`DEFAULT_ATTEMPT_TIMEOUT`],
    /// and a look for due entries at least every 200 ms (at once when this
    /// process appends one).
    #[must_use]
    pub fn new(handler: H, inbox: I) -> Self {
        Self {
            handler: Arc::new(handler),
            inbox,
            rules: Rules::new(Backoff::DEFAULT, DEFAULT_ATTEMPT_TIMEOUT),
            lease: Duration::from_secs(60),
            concurrency: 16,
            idle: Duration::from_millis(200),
            retention: DEFAULT_RETENTION,
        }
    }

    /// Refuses (as dead letters) deliveries whose signed timestamp was
    /// outside `window` when they arrived (not when they are tried: a retry
    /// a day later is not a replay).
    #[must_use]
    pub fn replay_window(mut self, window: ReplayWindow) -> Self {
        self.rules.window = Some(window);
        self
    }

    /// Retries on `backoff`.
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.rules.backoff(backoff);
        self
    }

    /// Holds each taken entry for `lease` (at least 100 ms), renewed every
    /// third of it while its handler runs; a worker that dies leaves it due
    /// after that.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(MIN_LEASE);
        self
    }

    /// Cuts an attempt whose handler runs longer than `timeout` (the handler
    /// is dropped, cancelled at its next `.await`), counted as a retryable
    /// failure, so that a handler that never returns cannot hold a worker's
    /// place forever.
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.rules.timeout = timeout;
        self
    }

    /// Runs at most `concurrency` handlers at once (at least 1).
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Keeps done entries for `retention` (their duplicates are recognized
    /// that long), purging older ones every 10 minutes while
    /// [`run`](Self::run) runs.
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// The inbox.
    pub fn inbox(&self) -> &I {
        &self.inbox
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// Takes the entries that are due (up to the concurrency), runs their
    /// handlers together, renewing their leases, and settles them. Returns
    /// how many it took. For a cron job or a test; [`run`](Self::run) keeps
    /// going, and starts new entries as soon as others finish.
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the inbox could not be read or written (the first
    /// such error). The handlers it started still run to their end; what it
    /// could not settle is due again when its lease ends.
    pub async fn run_once(&self) -> Result<usize, InboxError> {
        let mut pool = Pool::default();
        let count = self.fill(&mut pool).await?;
        let mut renewal = self.renewal();
        let mut first_error = None;
        while !pool.held.is_empty() {
            let outcome = tokio::select! {
                Some(finished) = pool.running.join_next_with_id() => {
                    self.collect(&mut pool, finished);
                    self.flush(&mut pool, false).await
                }
                _ = renewal.tick() => self.renew(&pool).await,
            };
            if let Err(error) = outcome {
                first_error.get_or_insert(error);
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(count),
        }
    }

    /// Runs until `stop` resolves: takes due entries whenever fewer than
    /// the concurrency are running, settles each as it finishes, renews the
    /// leases of the others, and purges done entries past the retention.
    /// Once `stop` resolves it takes nothing more and lets the running
    /// handlers finish for up to `grace`; the handlers still running then
    /// are dropped (cancelled at their next `.await`) and their entries left
    /// taken, due again when their lease ends (at the next start).
    /// Inbox errors are logged and retried, waiting longer after each one in
    /// a row (up to 5 seconds); settlements that failed are kept and sent
    /// again.
    pub async fn run(&self, stop: impl Future<Output = ()>, grace: Duration) {
        let mut stop = pin!(stop);
        let mut pool = Pool::default();
        let mut renewal = self.renewal();
        let mut next_purge = Instant::now();
        #[cfg(feature = "metrics")]
        let mut next_gauges = Instant::now();
        let mut failures = 0u32;
        // Whether to look for due entries at the top of the loop; not after
        // a settle, which took them in the same step.
        let mut look = true;
        loop {
            if Instant::now() >= next_purge {
                self.purge().await;
                next_purge = Instant::now() + PURGE_EVERY;
            }
            #[cfg(feature = "metrics")]
            if Instant::now() >= next_gauges {
                // A failure here is the next look's to log.
                if let Ok(backlog) = self.inbox.backlog().await {
                    backlog.record();
                }
                next_gauges = Instant::now() + GAUGES_EVERY;
            }
            let mut outcome = Ok(());
            if !pool.unsettled.is_empty() {
                outcome = self.flush(&mut pool, false).await;
            }
            if outcome.is_ok() && look && pool.held.len() < self.concurrency {
                outcome = self.fill(&mut pool).await.map(drop);
            }
            look = true;
            let rest = self.rest(&mut failures, outcome);
            tokio::select! {
                Some(finished) = pool.running.join_next_with_id() => {
                    look = false;
                    self.collect(&mut pool, finished);
                    let outcome = self.flush(&mut pool, true).await;
                    self.rest(&mut failures, outcome);
                }
                _ = renewal.tick(), if !pool.held.is_empty() => {
                    let outcome = self.renew(&pool).await;
                    self.rest(&mut failures, outcome);
                }
                () = self.inbox.appended(), if failures == 0 && pool.held.len() < self.concurrency => {}
                () = tokio::time::sleep(rest) => {}
                () = &mut stop => break,
            }
        }
        let finish = async {
            while !pool.held.is_empty() || !pool.unsettled.is_empty() {
                let outcome = tokio::select! {
                    Some(finished) = pool.running.join_next_with_id() => {
                        self.collect(&mut pool, finished);
                        self.flush(&mut pool, false).await
                    }
                    _ = renewal.tick() => self.renew(&pool).await,
                    () = tokio::time::sleep(self.idle), if pool.held.is_empty() => self.flush(&mut pool, false).await,
                };
                self.rest(&mut failures, outcome);
            }
        };
        if tokio::time::timeout(grace, finish).await.is_err() {
            tracing::warn!(
                target: "foxreach_webhooks::inbox",
                still_running = pool.held.len(),
                "the grace period ended with handlers still running; they are cancelled and their entries are due again when their leases end",
            );
        }
    }

    /// Counts a failure in a row (logged), or ends the run of them; how long
    /// to wait before looking again.
    fn rest(&self, failures: &mut u32, outcome: Result<(), InboxError>) -> Duration {
        match outcome {
            Ok(()) => *failures = 0,
            Err(error) => {
                *failures = failures.saturating_add(1);
                tracing::error!(
                    target: "foxreach_webhooks::inbox",
                    %error,
                    failures_in_a_row = *failures,
                    "the inbox failed; trying again",
                );
            }
        }
        let doubled = self.idle.saturating_mul(2u32.saturating_pow(*failures));
        if *failures == 0 { self.idle } else { doubled.min(MAX_REST) }
    }

    fn renewal(&self) -> tokio::time::Interval {
        let every = (self.lease / 3).max(Duration::from_millis(10));
        let mut renewal = tokio::time::interval_at(Instant::now() + every, every);
        renewal.set_missed_tick_behavior(MissedTickBehavior::Delay);
        renewal
    }

    /// Takes what is due, up to the free places, and starts its handlers.
    async fn fill(&self, pool: &mut Pool) -> Result<usize, InboxError> {
        let taken = self.inbox.take(self.concurrency - pool.held.len(), self.lease).await?;
        Ok(self.start(pool, taken))
    }

    fn start(&self, pool: &mut Pool, taken: Vec<Taken>) -> usize {
        let count = taken.len();
        for entry in taken {
            // This worker's own lease ran out while the handler still runs
            // (renewals failed, or the clock jumped), and it took the entry
            // again: the running handler goes on under the new attempt
            // rather than a second one starting beside it.
            if let Some(place) = pool.held.values_mut().find(|(id, _)| *id == entry.id) {
                tracing::warn!(
                    target: "foxreach_webhooks::inbox",
                    entry = %entry.id,
                    key = %entry.key,
                    "an entry's lease ran out while its handler was running here; it goes on under the new attempt",
                );
                place.1 = entry.attempt;
                continue;
            }
            let (handler, rules) = (Arc::clone(&self.handler), self.rules);
            let place = (entry.id, entry.attempt);
            let task = pool.running.spawn(async move { process(&*handler, rules, entry).await });
            pool.held.insert(task.id(), place);
        }
        count
    }

    /// Moves the handler that `finished`, and every other one finished by
    /// now, from held to unsettled.
    fn collect(&self, pool: &mut Pool, finished: Result<(Id, Settle), tokio::task::JoinError>) {
        let mut next = Some(finished);
        while let Some(finished) = next {
            match finished {
                Ok((task, how)) => {
                    if let Some((id, attempt)) = pool.held.remove(&task) {
                        pool.unsettled.push((id, attempt, how));
                    }
                }
                Err(error) => {
                    let held = pool.held.remove(&error.id());
                    // `process` catches the handler's panics: this is a bug
                    // of this crate's, or a task cancelled by the runtime
                    // shutting down. Either way the entry is left to its lease.
                    if error.is_panic() {
                        tracing::error!(
                            target: "foxreach_webhooks::inbox",
                            entry = ?held.map(|(id, _)| id.0),
                            "a worker task panicked outside the handler; its entry is due again when its lease ends",
                        );
                    }
                }
            }
            next = pool.running.try_join_next_with_id();
        }
    }

    /// Settles what finished in one write; with `refill`, the same write
    /// takes due entries for the free places, and their handlers start. What
    /// could not be settled is kept for the next flush.
    async fn flush(&self, pool: &mut Pool, refill: bool) -> Result<(), InboxError> {
        let settled = std::mem::take(&mut pool.unsettled);
        let outcome = if refill {
            let free = self.concurrency - pool.held.len();
            match self.inbox.settle_and_take(settled.clone(), free, self.lease).await {
                Ok(taken) => {
                    self.start(pool, taken);
                    Ok(())
                }
                Err(error) => Err(error),
            }
        } else if settled.is_empty() {
            return Ok(());
        } else {
            self.inbox.settle(settled.clone()).await
        };
        if outcome.is_err() {
            pool.unsettled = settled;
        }
        outcome
    }

    async fn renew(&self, pool: &Pool) -> Result<(), InboxError> {
        self.inbox.renew(pool.held.values().copied().collect(), self.lease).await
    }

    async fn purge(&self) {
        let Some(before) = SystemTime::now().checked_sub(self.retention) else { return };
        match self.inbox.purge(before).await {
            Ok(0) => {}
            Ok(purged) => {
                tracing::debug!(target: "foxreach_webhooks::inbox", purged, "purged done entries past the retention")
            }
            Err(error) => log_error(&error),
        }
    }
}

fn log_error(error: &InboxError) {
    tracing::error!(target: "foxreach_webhooks::inbox", %error, "the inbox failed; trying again");
}
