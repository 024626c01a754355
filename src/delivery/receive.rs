//! The one step between a verified body and its answer, whichever way the
//! application processes deliveries: in the request ([`Dispatcher`]) or
//! later, from a durable [`Inbox`](super::inbox::Inbox).

use std::future::Future;

use bytes::Bytes;

use super::inbox::{Appended, Inbox, NewEntry};
use super::{DeliveryKey, Dispatcher, Handler, Outcome, SeenStore};
use crate::{Event, ParseError};

/// What the HTTP glue hands a verified delivery to (features `delivery`):
/// a [`Dispatcher`], which runs the handler before answering, or an
/// [`Inbox`], which keeps the delivery durably and answers `202`. The axum
/// router and the tower receiver take either, through this one trait.
pub trait Receive: Clone + Send + Sync + 'static {
    /// Takes a delivery whose signature verified: its raw `body`, its
    /// duplicate `key`, and the event if something already parsed it.
    ///
    /// # Errors
    ///
    /// [`ParseError`] if the receiver must type the event to take it and the
    /// body is not a FoxReach event (the glue answers `400` or `422`). An
    /// inbox never refuses a body: it keeps whatever verified.
    fn receive(
        &self,
        body: Bytes,
        key: DeliveryKey,
        event: Option<Event>,
    ) -> impl Future<Output = Result<Outcome, ParseError>> + Send;
}

/// Parses leniently (unless the layer did), so that a payload that drifted
/// from FoxReach's docs still reaches the handler, then dispatches.
impl<H: Handler, S: SeenStore> Receive for Dispatcher<H, S> {
    async fn receive(&self, body: Bytes, key: DeliveryKey, event: Option<Event>) -> Result<Outcome, ParseError> {
        let event = match event {
            Some(event) => event,
            None => Event::from_slice_lenient(&body)?,
        };
        Ok(self.dispatch(event, body, key).await)
    }
}

/// Appends the delivery as it came, answering once it is durable:
/// [`Outcome::Kept`] (`202`), [`Outcome::Duplicate`] (`200`) for a delivery
/// kept already, in any state, or [`Outcome::InboxUnavailable`] (`503`).
impl<I: Inbox + Clone> Receive for I {
    async fn receive(&self, body: Bytes, key: DeliveryKey, _: Option<Event>) -> Result<Outcome, ParseError> {
        let entry = NewEntry::new(key, body, std::time::SystemTime::now());
        let event_type = crate::observe::event_type_label(entry.event_type.as_deref());
        let outcome = match self.append(entry).await {
            Ok(Appended::New(_)) => Outcome::Kept,
            Ok(Appended::Duplicate(_)) => Outcome::Duplicate,
            Err(error) => {
                tracing::error!(
                    target: "foxreach_webhooks::inbox",
                    key = %key,
                    %error,
                    "the inbox could not keep a delivery; answering 503 so that FoxReach retries",
                );
                Outcome::InboxUnavailable(error)
            }
        };
        crate::observe::delivery(event_type, &outcome);
        Ok(outcome)
    }
}
