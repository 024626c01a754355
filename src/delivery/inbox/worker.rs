//! Workers: take due entries from an [`Inbox`], run the application's
//! [`Handler`] on each (with the dispatcher's typing, degrading and replay
//! rules), and settle them: done, again later on a backoff, or a dead letter.

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::{Id, JoinSet};
use tokio::time::{Instant, MissedTickBehavior};

use super::{Backoff, EntryId, Inbox, InboxError, Settle, Taken};
use crate::Event;
use crate::delivery::handler::handle;
use crate::delivery::run::{Panicked, poll_catching};
use crate::delivery::{Delivery, Handler, ReplayWindow};

/// How long done entries are kept by default, so that a duplicate is
/// recognized: 7 days, far beyond FoxReach's last retry (36 minutes after
/// the first attempt) and any copy it sends by mistake.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// How often [`Workers::run`] purges done entries past the retention.
const PURGE_EVERY: Duration = Duration::from_secs(10 * 60);

/// Runs a [`Handler`] on the entries of an [`Inbox`].
#[derive(Debug)]
pub struct Workers<H, I> {
    handler: Arc<H>,
    inbox: I,
    window: Option<ReplayWindow>,
    backoff: Backoff,
    lease: Duration,
    concurrency: usize,
    idle: Duration,
    retention: Duration,
}

/// What a worker holds while a handler runs: the entry and its attempt.
type Held = HashMap<Id, (EntryId, u32)>;

impl<H: Handler, I: Inbox + Clone> Workers<H, I> {
    /// Workers for `handler` on `inbox`: 16 handlers at once, a lease of
    /// 60 seconds (renewed every 20 while a handler runs),
    /// [`Backoff::DEFAULT`], no replay window, done entries kept for
    /// [`DEFAULT_RETENTION`], and a look for due entries at least every
    /// 200 ms (at once when this process appends one).
    #[must_use]
    pub fn new(handler: H, inbox: I) -> Self {
        Self {
            handler: Arc::new(handler),
            inbox,
            window: None,
            backoff: Backoff::DEFAULT,
            lease: Duration::from_secs(60),
            concurrency: 16,
            idle: Duration::from_millis(200),
            retention: DEFAULT_RETENTION,
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
    /// [`InboxError`] if the inbox could not be read or written. Entries it
    /// took and could not settle are due again when their lease ends.
    pub async fn run_once(&self) -> Result<usize, InboxError> {
        let mut running = JoinSet::new();
        let mut held = Held::new();
        let count = self.fill(&mut running, &mut held).await?;
        let mut renewal = self.renewal();
        while !held.is_empty() {
            tokio::select! {
                Some(finished) = running.join_next_with_id() => self.settle(finished, &mut running, &mut held, false).await?,
                _ = renewal.tick() => self.renew(&held).await?,
            }
        }
        Ok(count)
    }

    /// Runs until `stop` resolves: takes due entries whenever fewer than
    /// the concurrency are running, settles each as it finishes, renews the
    /// leases of the others, and purges done entries past the retention.
    /// Once `stop` resolves it takes nothing more and lets the running
    /// handlers finish for up to `grace`; what is still running then is
    /// left taken, due again when its lease ends (at the next start).
    /// Inbox errors are logged and retried.
    pub async fn run(&self, stop: impl Future<Output = ()>, grace: Duration) {
        let mut stop = pin!(stop);
        let mut running = JoinSet::new();
        let mut held = Held::new();
        let mut renewal = self.renewal();
        let mut next_purge = Instant::now();
        // Whether to look for due entries at the top of the loop; not after
        // a settle, which took them in the same step.
        let mut look = true;
        loop {
            if Instant::now() >= next_purge {
                self.purge().await;
                next_purge = Instant::now() + PURGE_EVERY;
            }
            if look
                && held.len() < self.concurrency
                && let Err(error) = self.fill(&mut running, &mut held).await
            {
                log_error(&error);
            }
            look = true;
            tokio::select! {
                Some(finished) = running.join_next_with_id() => {
                    look = false;
                    if let Err(error) = self.settle(finished, &mut running, &mut held, true).await {
                        log_error(&error);
                    }
                }
                _ = renewal.tick(), if !held.is_empty() => {
                    if let Err(error) = self.renew(&held).await {
                        log_error(&error);
                    }
                }
                () = self.inbox.appended(), if held.len() < self.concurrency => {}
                () = tokio::time::sleep(self.idle) => {}
                () = &mut stop => break,
            }
        }
        let finish = async {
            while !held.is_empty() {
                tokio::select! {
                    Some(finished) = running.join_next_with_id() => {
                        if let Err(error) = self.settle(finished, &mut running, &mut held, false).await {
                            log_error(&error);
                        }
                    }
                    _ = renewal.tick() => {
                        if let Err(error) = self.renew(&held).await {
                            log_error(&error);
                        }
                    }
                }
            }
        };
        if tokio::time::timeout(grace, finish).await.is_err() {
            tracing::warn!(
                target: "foxreach_webhooks::inbox",
                still_running = held.len(),
                "the grace period ended with handlers still running; their entries are due again when their leases end",
            );
        }
    }

    fn renewal(&self) -> tokio::time::Interval {
        let every = (self.lease / 3).max(Duration::from_millis(10));
        let mut renewal = tokio::time::interval_at(Instant::now() + every, every);
        renewal.set_missed_tick_behavior(MissedTickBehavior::Delay);
        renewal
    }

    /// Takes what is due, up to the free places, and starts its handlers.
    async fn fill(&self, running: &mut JoinSet<Settle>, held: &mut Held) -> Result<usize, InboxError> {
        let taken = self.inbox.take(self.concurrency - held.len(), self.lease).await?;
        Ok(self.start(taken, running, held))
    }

    fn start(&self, taken: Vec<Taken>, running: &mut JoinSet<Settle>, held: &mut Held) -> usize {
        let count = taken.len();
        for entry in taken {
            let (handler, window, backoff) = (Arc::clone(&self.handler), self.window, self.backoff);
            let place = (entry.id, entry.attempt);
            let task = running.spawn(async move { process(&*handler, window, backoff, entry).await });
            held.insert(task.id(), place);
        }
        count
    }

    /// Settles the handler that `finished`, with every other one finished
    /// by now, in one write; with `refill`, the same write takes due
    /// entries for the free places, and their handlers start.
    async fn settle(
        &self,
        finished: Result<(Id, Settle), tokio::task::JoinError>,
        running: &mut JoinSet<Settle>,
        held: &mut Held,
        refill: bool,
    ) -> Result<(), InboxError> {
        let mut settled = Vec::new();
        let mut next = Some(finished);
        while let Some(finished) = next {
            match finished {
                Ok((task, how)) => {
                    if let Some((id, attempt)) = held.remove(&task) {
                        settled.push((id, attempt, how));
                    }
                }
                // `process` catches the handler's panics, so this is a task
                // cancelled by the runtime shutting down: its entry is left
                // to its lease.
                Err(error) => {
                    held.remove(&error.id());
                }
            }
            next = running.try_join_next_with_id();
        }
        if !refill {
            return self.inbox.settle(settled).await;
        }
        let taken = self.inbox.settle_and_take(settled, self.concurrency - held.len(), self.lease).await?;
        self.start(taken, running, held);
        Ok(())
    }

    async fn renew(&self, held: &Held) -> Result<(), InboxError> {
        self.inbox.renew(held.values().copied().collect(), self.lease).await
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

/// One entry's attempt: parse, check, handle, and say how it ends (logged
/// unless it is done: the entry's id and key, never its body).
async fn process<H: Handler>(handler: &H, window: Option<ReplayWindow>, backoff: Backoff, entry: Taken) -> Settle {
    let (id, key, attempt) = (entry.id, entry.key, entry.attempt);
    let settle = attempt_once(handler, window, backoff, entry).await;
    match &settle {
        Settle::Done => {}
        Settle::RetryAt(at, reason) => {
            let after = at.duration_since(SystemTime::now()).unwrap_or_default();
            tracing::warn!(
                target: "foxreach_webhooks::inbox",
                entry = %id,
                key = %key,
                attempt,
                retry_in_ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
                reason = %reason,
                "handler failed; the entry is tried again later",
            );
        }
        Settle::Dead(reason) => tracing::error!(
            target: "foxreach_webhooks::inbox",
            entry = %id,
            key = %key,
            attempt,
            reason = %reason,
            "the entry is a dead letter; `foxreach-webhooks inbox replay` runs it again",
        ),
    }
    settle
}

async fn attempt_once<H: Handler>(handler: &H, window: Option<ReplayWindow>, backoff: Backoff, entry: Taken) -> Settle {
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
    match backoff.next(entry.try_number, entry.scheduled_since, SystemTime::now()) {
        Some(at) => Settle::RetryAt(at, failure),
        None => Settle::Dead(format!("gave up after {} attempts: {failure}", entry.try_number)),
    }
}
