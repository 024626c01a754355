//! The one place a verified delivery goes: replay window, then its own task
//! (duplicate check, handler, what to remember), answered within a budget.

use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use tokio_util::task::TaskTracker;

use super::execute::{Panicked, poll_catching};
use super::run::{log_cancelled, log_over_budget, run, store_panicked};
use super::seen::{MemoryStore, SeenStore};
use super::{DeliveryKey, Handler, Outcome, ReplayWindow};
use crate::Event;
use crate::tenant::Tenant;

/// How long a delivery's answer waits for its handler by default: 4
/// seconds, under the 5 seconds FoxReach waits for an answer, with a second
/// left for the network and the rest of the request.
pub const DEFAULT_ANSWER_BUDGET: Duration = Duration::from_secs(4);

/// Runs a [`Handler`] for each verified delivery, with duplicate suppression
/// (a [`MemoryStore`] by default) and, if asked, a [`ReplayWindow`].
///
/// For one delivery, in order:
///
/// 1. With a replay window, a delivery whose signed timestamp is outside it
///    is refused ([`Outcome::Stale`]).
/// 2. The rest is polled once in place and, unless it finished there (a
///    duplicate, a handler that does not wait), moves to a Tokio task of
///    its own, which nothing cancels: not a client that hangs up, not a
///    timeout layer dropping the request. It is boxed from the start, so
///    the move is a pointer's, and it happens before the request can be
///    dropped. First the store [claims](SeenStore::claim) the delivery's key. A copy
///    already processed is acknowledged without running the handler
///    ([`Outcome::Duplicate`]); a copy being processed right now is refused
///    so that FoxReach retries it ([`Outcome::InProgress`]).
/// 3. The handler for the event's type runs, the claim renewed while it
///    does. On success the delivery is remembered as done; on a retryable
///    failure or a panic ([`Outcome::Panicked`]) it is forgotten, so that
///    FoxReach's retry runs the handler again; on a permanent failure it is
///    logged (with `tracing`, at error level) and remembered as done.
/// 4. The answer waits for the task up to the
///    [answer budget](Self::answer_budget) ([`DEFAULT_ANSWER_BUDGET`], 4
///    seconds). A handler still running then is answered
///    [`Outcome::StillRunning`], so that FoxReach retries, and keeps
///    running: the retry finds it done (acknowledged), still running (`409`)
///    or released after a failure (run again).
///
/// So a signed delivery is never lost (it is processed, or FoxReach is told
/// to retry it) and, within the store's TTL, never processed twice.
///
/// Cloning a dispatcher shares it (handler, store and tasks): keep a clone
/// to [`shut it down`](Self::shutdown) after handing it to a receiver. It
/// must run inside a Tokio runtime with timers enabled (`#[tokio::main]`
/// has them).
///
/// The HTTP glue turns it into a receiver in one call: see
/// `foxreach_webhooks::http::axum::router` and
/// `foxreach_webhooks::http::tower::receiver` (features `axum` and `tower`).
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use foxreach_webhooks::delivery::{Delivery, DeliveryKey, Dispatcher, Handled, Handler, Outcome};
/// use foxreach_webhooks::event::CampaignCompleted;
/// use foxreach_webhooks::{Event, Verifier};
///
/// struct App;
///
/// impl Handler for App {
///     async fn campaign_completed(&self, done: CampaignCompleted, _: Delivery<'_>) -> Handled {
///         println!("campaign {} completed", done.campaign_id);
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let verifier = Verifier::new("the-webhook-secret")?;
/// let dispatcher = Dispatcher::new(App);
///
/// let body = Bytes::from_static(br#"{"event":"campaign.completed","timestamp":"2025-02-01T18:00:00Z","data":{"campaignId":"cmp_456"}}"#);
/// let signature = verifier.sign(&body); // from the X-Webhook-Signature header
///
/// let key = DeliveryKey::verify(&verifier, &body, &signature)?;
/// let event = Event::from_slice_lenient(&body)?;
/// assert!(matches!(dispatcher.dispatch(event.clone(), body.clone(), key).await, Outcome::Processed));
/// assert!(matches!(dispatcher.dispatch(event, body, key).await, Outcome::Duplicate));
/// # Ok(())
/// # }
/// ```
pub struct Dispatcher<H, S = MemoryStore> {
    handler: Arc<H>,
    store: Arc<S>,
    window: Option<ReplayWindow>,
    answer_budget: Duration,
    tasks: TaskTracker,
}

impl<H: Handler> Dispatcher<H> {
    /// Dispatches to `handler`, with a default [`MemoryStore`], no replay
    /// window and the [`DEFAULT_ANSWER_BUDGET`].
    #[must_use]
    pub fn new(handler: H) -> Self {
        Self {
            handler: Arc::new(handler),
            store: Arc::new(MemoryStore::new()),
            window: None,
            answer_budget: DEFAULT_ANSWER_BUDGET,
            tasks: TaskTracker::new(),
        }
    }
}

impl<H: Handler, S: SeenStore> Dispatcher<H, S> {
    /// Suppresses duplicates with `store` instead: a [`MemoryStore`] with
    /// other settings, or a store shared by several receivers.
    #[must_use]
    pub fn seen_store<T: SeenStore>(self, store: T) -> Dispatcher<H, T> {
        Dispatcher {
            handler: self.handler,
            store: Arc::new(store),
            window: self.window,
            answer_budget: self.answer_budget,
            tasks: self.tasks,
        }
    }

    /// Refuses deliveries outside `window`. Read [`ReplayWindow`]'s notes on
    /// FoxReach's retries before choosing its length.
    #[must_use]
    pub fn replay_window(mut self, window: ReplayWindow) -> Self {
        self.window = Some(window);
        self
    }

    /// How long an answer waits for its handler before telling FoxReach to
    /// retry ([`Outcome::StillRunning`], logged at warn level) while the
    /// handler goes on. Keep it under FoxReach's 5 seconds, minus the
    /// network's share: FoxReach counts a late answer as a failure. With a
    /// zero budget, every delivery whose handler does not finish on its
    /// first poll is answered `503` at once (and retried), so leave it
    /// above the time your handlers usually take.
    #[must_use]
    pub fn answer_budget(mut self, budget: Duration) -> Self {
        self.answer_budget = budget;
        self
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The duplicate store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// How many handlers are running (or about to), answered or not.
    #[must_use]
    pub fn running(&self) -> usize {
        self.tasks.len()
    }

    /// Handles one delivery whose signature verified: `event` parsed from
    /// `body` (with [`Event::from_slice_lenient`], so that it reaches the
    /// handler even if FoxReach's payload drifted), identified by `key`
    /// (from [`DeliveryKey::verify`]). Never call it before verifying: it
    /// trusts its input.
    ///
    /// Dropping the returned future does not stop the handler: it finished
    /// on the first poll, or it runs on its own task.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, or in one without timers.
    pub async fn dispatch(&self, event: Event, body: Bytes, key: DeliveryKey) -> Outcome {
        self.dispatch_for(event, body, key, None).await
    }

    /// [`dispatch`](Self::dispatch) for a delivery to `tenant`, whose key is
    /// scoped to it already.
    pub(super) async fn dispatch_for(
        &self,
        event: Event,
        body: Bytes,
        key: DeliveryKey,
        tenant: Option<Tenant>,
    ) -> Outcome {
        let event_type = event.event_type();
        let label = tenant.clone();
        let outcome = self.dispatch_counted(event, body, key, tenant).await;
        crate::observe::delivery(event_type, label.as_ref(), &outcome);
        outcome
    }

    async fn dispatch_counted(&self, event: Event, body: Bytes, key: DeliveryKey, tenant: Option<Tenant>) -> Outcome {
        // Counted as running before the check, so that a `shutdown` that
        // closes the tracker after it still waits for this delivery.
        let running = self.tasks.token();
        if self.tasks.is_closed() {
            return Outcome::ShuttingDown;
        }
        if let Some(window) = &self.window
            && let Err(stale) = window.check(&event.timestamp)
        {
            return Outcome::Stale(stale);
        }
        let kind = event.event_type();
        let mut work = Box::pin(run(Arc::clone(&self.handler), Arc::clone(&self.store), event, body, key, tenant));
        // Most deliveries finish on their first poll (a duplicate, a handler
        // that does not wait): those need no task and no timer. The rest move
        // to a task, boxed where they are, before this future can be dropped.
        match poll_fn(|cx| Poll::Ready(poll_catching(work.as_mut(), cx))).await {
            Poll::Ready(Ok(outcome)) => return outcome,
            Poll::Pending => {}
            // The handler's panics are caught inside; this one is the store's.
            Poll::Ready(Err(Panicked)) => return store_panicked(kind, &key),
        }
        let task = self.tasks.spawn(work);
        drop(running);
        match tokio::time::timeout(self.answer_budget, task).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(error)) if error.is_panic() => store_panicked(kind, &key),
            Ok(Err(_)) => {
                log_cancelled(kind, &key);
                Outcome::ShuttingDown
            }
            Err(_) => {
                log_over_budget(kind, &key, self.answer_budget);
                Outcome::StillRunning
            }
        }
    }

    /// Stops taking deliveries and waits up to `grace` for the handlers
    /// still running. A delivery dispatched from now on is refused with
    /// [`Outcome::ShuttingDown`], so that FoxReach retries it (stop the HTTP
    /// server first, so that few are).
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime with timers, as [`dispatch`](Self::dispatch).
    ///
    /// # Errors
    ///
    /// [`ShutdownTimedOut`] if handlers are still running after `grace`.
    /// They are not cancelled here; they stop with the runtime, and their
    /// deliveries (answered [`Outcome::StillRunning`], or never answered)
    /// are retried by FoxReach, once their claims' leases run out with a
    /// shared store.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use foxreach_webhooks::delivery::{Dispatcher, Handler};
    ///
    /// struct App;
    /// impl Handler for App {}
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), foxreach_webhooks::delivery::ShutdownTimedOut> {
    /// let dispatcher = Dispatcher::new(App);
    /// let for_the_receiver = dispatcher.clone();
    /// // ... serve `for_the_receiver` until SIGTERM, then:
    /// dispatcher.shutdown(Duration::from_secs(10)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn shutdown(&self, grace: Duration) -> Result<(), ShutdownTimedOut> {
        self.tasks.close();
        match tokio::time::timeout(grace, self.tasks.wait()).await {
            Ok(()) => Ok(()),
            Err(_) => Err(ShutdownTimedOut { still_running: self.tasks.len(), grace }),
        }
    }
}

impl<H, S> Clone for Dispatcher<H, S> {
    fn clone(&self) -> Self {
        Self {
            handler: Arc::clone(&self.handler),
            store: Arc::clone(&self.store),
            window: self.window,
            answer_budget: self.answer_budget,
            tasks: self.tasks.clone(),
        }
    }
}

impl<H: fmt::Debug, S: fmt::Debug> fmt::Debug for Dispatcher<H, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("handler", &self.handler)
            .field("store", &self.store)
            .field("window", &self.window)
            .field("answer_budget", &self.answer_budget)
            .field("running", &self.tasks.len())
            .finish()
    }
}

/// Handlers were still running when [`Dispatcher::shutdown`]'s grace
/// period ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownTimedOut {
    still_running: usize,
    grace: Duration,
}

impl ShutdownTimedOut {
    /// How many handlers were still running.
    #[must_use]
    pub fn still_running(&self) -> usize {
        self.still_running
    }
}

impl fmt::Display for ShutdownTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} handler(s) still running after the grace period of {} ms; FoxReach will retry their deliveries",
            self.still_running,
            self.grace.as_millis()
        )
    }
}

impl std::error::Error for ShutdownTimedOut {}
