//! One delivery's work: claim, handler (renewing the claim while it runs,
//! catching its panic), settlement. The dispatcher polls it once in place
//! and, unless it finished, on a task of its own: it runs to the end
//! whatever becomes of the HTTP request that started it.

use std::borrow::Cow;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;

use super::execute::{Panicked, execute, poll_catching};
use super::seen::{Claim, SeenStore};
use super::{Delivery, DeliveryKey, Executed, Handler, HandlerError, Outcome, StoreError};
use crate::observe;
use crate::tenant::Tenant;
use crate::{Event, EventType};

/// The shortest renewal interval, so that a store with a (pointlessly) zero
/// lease does not spin.
const MIN_RENEWAL: Duration = Duration::from_millis(10);

/// Claims `key`, runs the handler for `event` and settles the claim: done
/// after a success or a permanent failure, released after a retryable
/// failure or a panic.
pub(super) async fn run<H: Handler, S: SeenStore>(
    handler: Arc<H>,
    store: Arc<S>,
    event: Event,
    body: Bytes,
    key: DeliveryKey,
    tenant: Option<Tenant>,
) -> Outcome {
    match store.claim(&key).await {
        Ok(Claim::New) => {}
        Ok(Claim::InProgress) => return Outcome::InProgress,
        Ok(Claim::Done) => return Outcome::Duplicate,
        Err(error) => {
            log_store_error("claim", &error);
            return Outcome::StoreUnavailable(error);
        }
    }
    // The type's name outlives the data the handler consumes, for the logs.
    let name: Cow<'static, str> = match event.event_type() {
        Some(known) => Cow::Borrowed(known.as_str()),
        None => Cow::Owned(event.name().to_owned()),
    };
    let degraded = event.degraded_fields();
    if !degraded.is_empty() {
        log_degraded(&name, &key, degraded);
    }
    let span = observe::delivery_span(event.event_type(), &key, tenant.as_ref());
    let Event { timestamp, data, .. } = event;
    let delivery = Delivery { timestamp: &timestamp, body: &body, key, tenant: tenant.as_ref() };
    let executed = supervise(&*store, &key, pin!(execute(&*handler, data, delivery, &span, None))).await;
    let (outcome, settled) = match executed {
        Executed::Succeeded => (Outcome::Processed, store.complete(&key).await),
        Executed::Failed(error) if error.is_retryable() => {
            log_failure(&name, &key, &error);
            (Outcome::Failed(error), store.release(&key).await)
        }
        Executed::Failed(error) => {
            log_failure(&name, &key, &error);
            (Outcome::Failed(error), store.complete(&key).await)
        }
        // No limit was given, so `TimedOut` cannot happen; answered as a
        // panic would be, the claim released, if it ever did.
        Executed::Panicked | Executed::TimedOut => {
            log_panic(&name, &key);
            (Outcome::Panicked, store.release(&key).await)
        }
    };
    span.record("outcome", outcome.label());
    // If the store fails here, the mark expires with its lease, before
    // FoxReach's first retry.
    if let Err(error) = settled {
        log_store_error("settle", &error);
    }
    outcome
}

/// Polls `work` to its end and renews the claim on `key` every third of
/// the store's lease meanwhile. The renewal is polled beside the handler,
/// never instead of it, so a slow store does not pause the handler.
async fn supervise<S: SeenStore, F: Future>(store: &S, key: &DeliveryKey, mut work: Pin<&mut F>) -> F::Output {
    // Most handlers finish on their first poll: no timer for them.
    if let Poll::Ready(done) = poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await {
        return done;
    }
    let every = (store.lease_duration() / 3).max(MIN_RENEWAL);
    let mut tick = pin!(tokio::time::sleep(every));
    let mut renewal = pin!(None);
    poll_fn(|cx| {
        if let Poll::Ready(done) = work.as_mut().poll(cx) {
            return Poll::Ready(done);
        }
        loop {
            if let Some(renewing) = renewal.as_mut().as_pin_mut() {
                match poll_catching(renewing, cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(Ok(true))) => {}
                    Poll::Ready(Ok(Ok(false))) => log_claim_lost(key),
                    Poll::Ready(Ok(Err(error))) => log_store_error("renew", &error),
                    Poll::Ready(Err(Panicked)) => log_store_error("renew", &StoreError::new("the store panicked")),
                }
                renewal.set(None);
            }
            if tick.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let next = tick.deadline() + every;
            tick.as_mut().reset(next);
            renewal.set(Some(store.renew(key)));
        }
    })
    .await
}

/// A permanent failure is acknowledged, so this log is its only trace.
#[cold]
fn log_failure(name: &str, key: &DeliveryKey, error: &HandlerError) {
    match error.is_retryable() {
        true => tracing::warn!(
            target: "foxreach_webhooks::delivery",
            event = name,
            key = %key,
            error = %error.source(),
            "handler failed; FoxReach will retry",
        ),
        false => tracing::error!(
            target: "foxreach_webhooks::delivery",
            event = name,
            key = %key,
            error = %error.source(),
            "handler failed permanently; the delivery is acknowledged and will not be retried",
        ),
    }
}

/// The panic's message is not repeated: the panic hook printed it, and it
/// may hold whatever the handler was looking at.
#[cold]
fn log_panic(name: &str, key: &DeliveryKey) {
    tracing::error!(
        target: "foxreach_webhooks::delivery",
        event = name,
        key = %key,
        "handler panicked; answered 500 and released, so FoxReach's retry runs it again",
    );
}

/// Names the fields, never their values: they are FoxReach's data about leads.
#[cold]
fn log_degraded(name: &str, key: &DeliveryKey, fields: &[&'static str]) {
    for field in fields {
        tracing::warn!(
            target: "foxreach_webhooks::delivery",
            event = name,
            key = %key,
            field = format_args!("data.{field}"),
            "a documented field has an unexpected type; the handler gets None and the raw value in `extra`",
        );
    }
}

/// The store panicked (a handler's panic is caught around the handler):
/// answered like a handler's panic, the claim left to its lease.
#[cold]
pub(super) fn store_panicked(kind: Option<EventType>, key: &DeliveryKey) -> Outcome {
    tracing::error!(
        target: "foxreach_webhooks::delivery",
        event = kind.map_or("(unknown type)", EventType::as_str),
        key = %key,
        "the duplicate store panicked; answered 500, and the claim ends with its lease",
    );
    Outcome::Panicked
}

/// The handler outlived the answer budget: FoxReach is told to retry, and
/// counts that answer against the webhook's health.
#[cold]
pub(super) fn log_over_budget(kind: Option<EventType>, key: &DeliveryKey, budget: Duration) {
    tracing::warn!(
        target: "foxreach_webhooks::delivery",
        event = kind.map_or("(unknown type)", EventType::as_str),
        key = %key,
        budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
        "the handler is still running after the answer budget; answered 503 so that FoxReach retries, and it goes on",
    );
}

/// The runtime dropped the delivery's task before it finished.
#[cold]
pub(super) fn log_cancelled(kind: Option<EventType>, key: &DeliveryKey) {
    tracing::warn!(
        target: "foxreach_webhooks::delivery",
        event = kind.map_or("(unknown type)", EventType::as_str),
        key = %key,
        "the runtime is shutting down and dropped the handler's task; FoxReach will retry",
    );
}

/// The store no longer held the claim (its lease ran out while the store
/// was unreachable, say): a copy may be running beside this handler.
#[cold]
fn log_claim_lost(key: &DeliveryKey) {
    tracing::warn!(
        target: "foxreach_webhooks::delivery",
        key = %key,
        "the claim ran out while its handler was still running; a copy of the delivery may run beside it",
    );
}

#[cold]
pub(super) fn log_store_error(step: &str, error: &StoreError) {
    tracing::error!(target: "foxreach_webhooks::delivery", step, %error, "duplicate store failed");
}
