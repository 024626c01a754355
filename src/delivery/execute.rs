//! The one executor: whichever way a delivery is processed (in the request
//! by a [`Dispatcher`](super::Dispatcher), later by an inbox's workers, or
//! from a queue of the application's own), its handler runs through
//! [`execute`].

use std::future::{Future, poll_fn};
use std::panic::{self, AssertUnwindSafe};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tracing::{Instrument, Span};

use super::handler::handle;
use super::{Delivery, Handler, HandlerError};
use crate::event::EventData;
use crate::observe::{self, HandlerResult};

/// How one run of a handler ended.
#[derive(Debug)]
#[non_exhaustive]
#[must_use = "a handler's failure is in it: settle or answer the delivery accordingly"]
pub enum Executed {
    /// The handler returned `Ok`: the event is processed.
    Succeeded,
    /// The handler returned an error; [`HandlerError::is_retryable`] says
    /// whether running it again can help.
    Failed(HandlerError),
    /// The handler panicked. The panic was caught (the panic hook printed
    /// it) and the handler's future dropped, never polled again.
    Panicked,
    /// The handler ran past the `limit` given to [`execute`] and was
    /// dropped (cancelled at its next `.await`).
    TimedOut,
}

/// Runs the method of `handler` for `data`'s event type, with `delivery`'s
/// metadata, inside `span`, and says how it ended: the one place a handler
/// runs, for a [`Dispatcher`](super::Dispatcher) (in the request), for an
/// inbox's workers (`foxreach-inbox`), and for an application that
/// processes deliveries from a queue of its own (an outbox, a job queue).
///
/// - A panic is caught and becomes [`Executed::Panicked`], not an unwound
///   worker or a dropped connection.
/// - With a `limit`, a handler still running `limit` after the returned
///   future is first polled is dropped: [`Executed::TimedOut`]. Without
///   one it runs to its end (the dispatcher answers after its budget and
///   lets it go on). The recorded duration also counts from the first poll.
/// - Its duration and result are recorded (feature `metrics`:
///   `foxreach_webhooks_handler_duration_seconds` and
///   `foxreach_webhooks_handler_failures_total`, see [`crate::observe`]).
///
/// `span` is the delivery's, usually [`observe::delivery_span`]'s: the
/// application's own logs and spans nest inside it, and the caller records
/// its `outcome` once it knows what the result means for the delivery.
/// Parse the event once (leniently, with
/// [`Event::from_slice_lenient`](crate::Event::from_slice_lenient)) and
/// split it: its `data` goes here, its `timestamp` into the `delivery`.
///
/// # Panics
///
/// With a `limit`, outside a Tokio runtime with timers.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use foxreach_webhooks::delivery::{Delivery, DeliveryKey, Executed, Handler, execute};
/// use foxreach_webhooks::{Event, observe};
///
/// struct Ignore;
/// impl Handler for Ignore {}
///
/// // A job from the application's own queue: the body kept after it verified.
/// let body = br#"{"event":"lead.created","timestamp":"2025-01-14T08:00:00Z","data":{"leadId":"cld_1"}}"#;
/// let key = DeliveryKey::of_body(body);
/// let Event { timestamp, data, .. } = Event::from_slice_lenient(body)?;
/// let span = observe::delivery_span(data.event_type(), &key, None);
/// let executed = execute(&Ignore, data, Delivery::new(&timestamp, body, key), &span, None).await;
/// assert!(matches!(executed, Executed::Succeeded));
/// # Ok(())
/// # }
/// ```
pub async fn execute<H: Handler>(
    handler: &H,
    data: EventData,
    delivery: Delivery<'_>,
    span: &Span,
    limit: Option<Duration>,
) -> Executed {
    let label = data.event_type().map_or("unknown", |known| known.as_str());
    let tenant = delivery.tenant;
    // Pinned where it is made and polled through the pin from then on: the
    // handler's future is the biggest part of a delivery, and moving it
    // costs a copy each time.
    let mut handled = pin!(handle(handler, data, delivery).instrument(span.clone()));
    let started = Instant::now();
    let caught = poll_fn(|cx| poll_catching(handled.as_mut(), cx));
    let ended = match limit {
        None => Some(caught.await),
        Some(limit) => tokio::time::timeout(limit, caught).await.ok(),
    };
    let executed = match ended {
        Some(Ok(Ok(()))) => Executed::Succeeded,
        Some(Ok(Err(error))) => Executed::Failed(error),
        Some(Err(Panicked)) => Executed::Panicked,
        None => Executed::TimedOut,
    };
    let result = match &executed {
        Executed::Succeeded => HandlerResult::Success,
        Executed::Failed(error) if error.is_retryable() => HandlerResult::Retryable,
        Executed::Failed(_) => HandlerResult::Permanent,
        Executed::Panicked => HandlerResult::Panic,
        Executed::TimedOut => HandlerResult::Timeout,
    };
    observe::handler(label, tenant, result, started.elapsed());
    executed
}

/// A panic was caught; its payload was dropped (the panic hook printed it).
pub(super) struct Panicked;

/// Polls `future` once, turning a panic into [`Panicked`]. The future is
/// never polled again after it panicked, so the broken state it may have
/// left behind is never observed; state the handler shares with other
/// deliveries is the application's to keep consistent, as after a panic on
/// any thread.
pub(super) fn poll_catching<F: Future>(future: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<Result<F::Output, Panicked>> {
    match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(_payload) => Poll::Ready(Err(Panicked)),
    }
}
