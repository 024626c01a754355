//! The one place a verified delivery goes: replay window, duplicate check,
//! handler, and what to remember afterwards.

use super::handler::handle;
use super::seen::{Claim, MemoryStore, SeenStore};
use super::{Delivery, DeliveryKey, Handler, HandlerError, Outcome, ReplayWindow};
use crate::Event;

/// Runs a [`Handler`] for each verified delivery, with duplicate suppression
/// (a [`MemoryStore`] by default) and, if asked, a [`ReplayWindow`].
///
/// For one delivery, in order:
///
/// 1. With a replay window, a delivery whose signed timestamp is outside it
///    is refused ([`Outcome::Stale`]).
/// 2. The store [claims](SeenStore::claim) the delivery's key. A copy
///    already processed is acknowledged without running the handler
///    ([`Outcome::Duplicate`]); a copy being processed right now is refused
///    so that FoxReach retries it ([`Outcome::InProgress`]).
/// 3. The handler for the event's type runs. On success the delivery is
///    remembered as done; on a retryable failure it is forgotten, so that
///    FoxReach's retry runs the handler again; on a permanent failure it is
///    logged (with `tracing`, at error level) and remembered as done.
///
/// So a signed delivery is never lost (it is processed, or FoxReach is told
/// to retry it) and, within the store's TTL, never processed twice.
///
/// The HTTP glue turns it into a receiver in one call: see
/// `foxreach_webhooks::http::axum::router` and
/// `foxreach_webhooks::http::tower::receiver` (features `axum` and `tower`).
///
/// # Example
///
/// ```
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
/// let body = br#"{"event":"campaign.completed","timestamp":"2025-02-01T18:00:00Z","data":{"campaignId":"cmp_456"}}"#;
/// let signature = verifier.sign(body); // from the X-Webhook-Signature header
///
/// verifier.verify(body, &signature)?;
/// let event = Event::from_slice(body)?;
/// let key = DeliveryKey::from_signature(&signature).ok_or("a verified signature is 64 hex digits")?;
/// assert!(matches!(dispatcher.dispatch(event.clone(), body, key).await, Outcome::Processed));
/// assert!(matches!(dispatcher.dispatch(event, body, key).await, Outcome::Duplicate));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Dispatcher<H, S = MemoryStore> {
    handler: H,
    store: S,
    window: Option<ReplayWindow>,
}

impl<H: Handler> Dispatcher<H> {
    /// Dispatches to `handler`, with a default [`MemoryStore`] and no replay window.
    #[must_use]
    pub fn new(handler: H) -> Self {
        Self { handler, store: MemoryStore::new(), window: None }
    }
}

impl<H: Handler, S: SeenStore> Dispatcher<H, S> {
    /// Suppresses duplicates with `store` instead: a [`MemoryStore`] with
    /// other settings, or a store shared by several receivers.
    #[must_use]
    pub fn seen_store<T: SeenStore>(self, store: T) -> Dispatcher<H, T> {
        Dispatcher { handler: self.handler, store, window: self.window }
    }

    /// Refuses deliveries outside `window`. Read [`ReplayWindow`]'s notes on
    /// FoxReach's retries before choosing its length.
    #[must_use]
    pub fn replay_window(mut self, window: ReplayWindow) -> Self {
        self.window = Some(window);
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

    /// Handles one delivery whose signature verified: `event` parsed from
    /// `body`, identified by `key` (usually
    /// [`DeliveryKey::from_signature`] of its `X-Webhook-Signature`). Never
    /// call it before verifying: it trusts its input. The future is `Send`,
    /// as [`Handler`] and [`SeenStore`] futures are.
    pub async fn dispatch(&self, event: Event, body: &[u8], key: DeliveryKey) -> Outcome {
        if let Some(window) = &self.window
            && let Err(stale) = window.check(&event.timestamp)
        {
            return Outcome::Stale(stale);
        }
        match self.store.claim(&key).await {
            Ok(Claim::New) => {}
            Ok(Claim::InProgress) => return Outcome::InProgress,
            Ok(Claim::Done) => return Outcome::Duplicate,
            Err(error) => {
                log_store_error("claim", &error);
                return Outcome::StoreUnavailable(error);
            }
        }
        let Event { timestamp, data, .. } = event;
        let outcome = match handle(&self.handler, data, Delivery { timestamp: &timestamp, body, key }).await {
            Ok(()) => Outcome::Processed,
            Err(error) => Outcome::Failed(error),
        };
        // Forget a retryable failure, so that FoxReach's retry runs; remember
        // the rest. If the store fails here, the mark expires with its lease,
        // before FoxReach's first retry.
        let settled = match &outcome {
            Outcome::Failed(error) if error.is_retryable() => self.store.release(&key).await,
            _ => self.store.complete(&key).await,
        };
        if let Err(error) = settled {
            log_store_error("settle", &error);
        }
        if let Outcome::Failed(error) = &outcome {
            log_failure(error, &key);
        }
        outcome
    }
}

/// A permanent failure is acknowledged, so this log is its only trace.
#[cold]
fn log_failure(error: &HandlerError, key: &DeliveryKey) {
    match error.is_retryable() {
        true => tracing::warn!(
            target: "foxreach_webhooks::delivery",
            key = %key,
            error = %error.source(),
            "handler failed; FoxReach will retry",
        ),
        false => tracing::error!(
            target: "foxreach_webhooks::delivery",
            key = %key,
            error = %error.source(),
            "handler failed permanently; the delivery is acknowledged and will not be retried",
        ),
    }
}

#[cold]
fn log_store_error(step: &str, error: &super::StoreError) {
    tracing::error!(target: "foxreach_webhooks::delivery", step, %error, "duplicate store failed");
}
