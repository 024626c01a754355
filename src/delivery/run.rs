//! One delivery's own task: claim, handler (renewing the claim while it
//! runs, catching its panic), settlement. It runs to the end whatever
//! becomes of the HTTP request that started it.

use std::any::Any;
use std::borrow::Cow;
use std::future::{Future, poll_fn};
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;

use super::handler::handle;
use super::seen::{Claim, SeenStore};
use super::{Delivery, DeliveryKey, Handler, HandlerError, Outcome, StoreError};
use crate::Event;

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
    let Event { timestamp, data, .. } = event;
    let delivery = Delivery { timestamp: &timestamp, body: &body, key };
    let handled = renewing(&*store, &key, catch_unwind(handle(&*handler, data, delivery))).await;
    let (outcome, settled) = match handled {
        Ok(Ok(())) => (Outcome::Processed, store.complete(&key).await),
        Ok(Err(error)) if error.is_retryable() => {
            log_failure(&name, &key, &error);
            (Outcome::Failed(error), store.release(&key).await)
        }
        Ok(Err(error)) => {
            log_failure(&name, &key, &error);
            (Outcome::Failed(error), store.complete(&key).await)
        }
        Err(_payload) => {
            log_panic(&name, &key);
            (Outcome::Panicked, store.release(&key).await)
        }
    };
    // If the store fails here, the mark expires with its lease, before
    // FoxReach's first retry.
    if let Err(error) = settled {
        log_store_error("settle", &error);
    }
    outcome
}

/// Awaits `work`, renewing the claim on `key` every third of the store's
/// lease until it ends.
async fn renewing<S: SeenStore, F: Future>(store: &S, key: &DeliveryKey, work: F) -> F::Output {
    let every = (store.lease_duration() / 3).max(MIN_RENEWAL);
    let mut work = pin!(work);
    loop {
        match tokio::time::timeout(every, work.as_mut()).await {
            Ok(output) => return output,
            Err(_) => {
                if let Err(error) = store.renew(key).await {
                    log_store_error("renew", &error);
                }
            }
        }
    }
}

/// Awaits `future`, turning a panic while polling it into an `Err` with the
/// panic's payload, as `std::panic::catch_unwind` does for a closure.
async fn catch_unwind<F: Future>(future: F) -> Result<F::Output, Box<dyn Any + Send>> {
    let mut future = pin!(future);
    // The future is never polled again after it panicked, so whatever state
    // the panic left it in is never observed: asserting unwind safety is sound.
    poll_fn(|cx| match panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(payload) => Poll::Ready(Err(payload)),
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

#[cold]
pub(super) fn log_store_error(step: &str, error: &StoreError) {
    tracing::error!(target: "foxreach_webhooks::delivery", step, %error, "duplicate store failed");
}
