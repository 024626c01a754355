//! The one step between a verified body and its answer, whichever way the
//! application processes deliveries: in the request ([`Dispatcher`]) or
//! later, from a durable inbox (crate `foxreach-inbox`).

use std::fmt;
use std::future::Future;

use bytes::Bytes;

use super::{DeliveryKey, Dispatcher, Handler, Outcome, SeenStore};
use crate::tenant::Tenant;
use crate::{Event, ParseError};

/// What the HTTP glue hands a verified delivery to (feature `delivery`):
/// a [`Dispatcher`], which runs the handler before answering, or an inbox
/// (crate `foxreach-inbox`), which keeps the delivery durably and answers
/// `202`. The axum routers and the tower receivers take either, through
/// this one trait.
pub trait Receive: Clone + Send + Sync + 'static {
    /// Takes a delivery whose signature verified.
    ///
    /// # Errors
    ///
    /// [`ParseError`] if the receiver must type the event to take it and the
    /// body is not a FoxReach event (the glue answers `400` or `422`). An
    /// inbox never refuses a body: it keeps whatever verified.
    fn receive(&self, delivery: VerifiedDelivery) -> impl Future<Output = Result<Outcome, ParseError>> + Send;
}

/// A delivery whose signature verified, as [`Receive`] takes it. `Debug`
/// shows the body's length only.
#[derive(Clone)]
#[non_exhaustive]
pub struct VerifiedDelivery {
    /// The raw body, exactly as verified.
    pub body: Bytes,
    /// Its duplicate key ([`DeliveryKey::verify`]'s, scoped to the tenant
    /// if there is one).
    pub key: DeliveryKey,
    /// The event, if something (the tower layer) parsed it already.
    pub event: Option<Event>,
    /// Which of the application's webhooks it came to, when the receiver
    /// serves several ([`crate::tenant`]).
    pub tenant: Option<Tenant>,
}

impl VerifiedDelivery {
    /// A delivery of `body`, keyed `key` (from [`DeliveryKey::verify`]).
    /// Never build one before verifying: receivers trust it.
    #[must_use]
    pub fn new(body: Bytes, key: DeliveryKey) -> Self {
        Self { body, key, event: None, tenant: None }
    }

    /// With the event already parsed from the body.
    #[must_use]
    pub fn with_event(self, event: Option<Event>) -> Self {
        Self { event, ..self }
    }

    /// For `tenant`, its key scoped to it ([`DeliveryKey::for_tenant`]).
    #[must_use]
    pub fn for_tenant(self, tenant: Tenant) -> Self {
        Self { key: self.key.for_tenant(&tenant), tenant: Some(tenant), ..self }
    }
}

impl fmt::Debug for VerifiedDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedDelivery")
            .field("len", &self.body.len())
            .field("key", &self.key)
            .field("event", &self.event.as_ref().map(Event::name))
            .field("tenant", &self.tenant)
            .finish()
    }
}

/// Parses leniently (unless the layer did), so that a payload that drifted
/// from FoxReach's docs still reaches the handler, then dispatches.
impl<H: Handler, S: SeenStore> Receive for Dispatcher<H, S> {
    async fn receive(&self, delivery: VerifiedDelivery) -> Result<Outcome, ParseError> {
        let VerifiedDelivery { body, key, event, tenant } = delivery;
        let event = match event {
            Some(event) => event,
            None => Event::from_slice_lenient(&body)?,
        };
        Ok(self.dispatch_for(event, body, key, tenant).await)
    }
}
