//! What the application writes: one async method per event type.

use std::fmt;
use std::future::{self, Future};
use std::sync::Arc;

use super::{DeliveryKey, HandlerError};
use crate::event::{EventData, Timestamp, UnknownEvent, UntypedEvent, event_types};
use crate::tenant::Tenant;

/// What a handler returns: `Ok` once the event is safely processed, or a
/// [`HandlerError`] that says whether FoxReach should retry.
pub type Handled = Result<(), HandlerError>;

/// Declares [`Handler`] with one method per row of the event table, its
/// forwarding for `Arc<H>`, and [`handle`], the one match from an event's
/// data to its method.
macro_rules! handler {
    ( $( $(#[$meta:meta])* $variant:ident = $wire:literal => $method:ident, )* ) => {
        /// The application's handlers, one async method per FoxReach event type.
        ///
        /// Implement the methods for the events you care about; the others accept the
        /// delivery and do nothing, so FoxReach does not retry them. Events of a type
        /// this crate does not know yet go to [`unknown`](Self::unknown), and those
        /// of a known type whose data cannot be typed to [`untyped`](Self::untyped). A
        /// [`Dispatcher`](super::Dispatcher) calls the right method with the typed
        /// data and the [`Delivery`] metadata.
        ///
        /// FoxReach expects an answer within 5 seconds. The dispatcher runs each
        /// handler to its end on a task of its own and answers after at most its
        /// answer budget (4 seconds by default), asking FoxReach to retry a
        /// delivery whose handler is still running; a handler may take longer,
        /// but it then counts against the webhook's health in FoxReach, so work
        /// that is slow every time belongs in a queue of the application's own.
        ///
        /// # Example
        ///
        /// ```
        /// use foxreach_webhooks::delivery::{Delivery, Handled, Handler, HandlerError};
        /// use foxreach_webhooks::event::{EmailBounced, ReplyReceived};
        ///
        /// struct Crm; // holds the database pool, say
        ///
        /// impl Handler for Crm {
        ///     async fn reply_received(&self, reply: ReplyReceived, delivery: Delivery<'_>) -> Handled {
        ///         println!("lead {} replied at {}", reply.lead_id, delivery.timestamp);
        ///         Ok(())
        ///     }
        ///
        ///     async fn email_bounced(&self, bounce: EmailBounced, _: Delivery<'_>) -> Handled {
        ///         if bounce.to_email.is_none() {
        ///             // Retrying the same payload cannot help: answer 2xx and log it.
        ///             return Err(HandlerError::permanent("a bounce without an address"));
        ///         }
        ///         Ok(()) // a database error here would be retryable: `?` makes it so
        ///     }
        /// }
        /// ```
        pub trait Handler: Send + Sync + 'static {
            $(
                $(#[$meta])*
                ///
                #[doc = concat!(
                    "Receives each `", $wire, "` delivery with its typed data; unless overridden, ",
                    "accepts it and does nothing."
                )]
                fn $method(
                    &self,
                    data: crate::event::$variant,
                    delivery: Delivery<'_>,
                ) -> impl Future<Output = Handled> + Send {
                    ignore(data, delivery)
                }
            )*

            /// An event type FoxReach added after this crate's release, with its wire
            /// name and raw `data`. Accepted and ignored unless overridden.
            fn unknown(&self, event: UnknownEvent, delivery: Delivery<'_>) -> impl Future<Output = Handled> + Send {
                ignore(event, delivery)
            }

            /// An event of a documented type whose data could not be typed (a
            /// required id missing or not an id, `data` not an object), with its
            /// raw `data` and the reason (see [`UntypedEvent`]).
            ///
            /// Unless overridden, fails it permanently with the reason: FoxReach is
            /// answered 2xx (a retry would carry the same data), and the dispatcher
            /// logs the failure at error level with the event type and delivery key,
            /// so such an event is never dropped silently; the log is its only trace.
            /// Override it to keep such events (their raw data is in the
            /// [`UntypedEvent`]) or to repair them.
            fn untyped(&self, event: UntypedEvent, delivery: Delivery<'_>) -> impl Future<Output = Handled> + Send {
                let _ = delivery;
                future::ready(Err(HandlerError::permanent(event.reason)))
            }
        }

        /// A shared handler is a handler: keep an `Arc` to reach the application's
        /// state (or, in tests, what the handler recorded) after handing it over.
        impl<H: Handler> Handler for Arc<H> {
            $(
                fn $method(
                    &self,
                    data: crate::event::$variant,
                    delivery: Delivery<'_>,
                ) -> impl Future<Output = Handled> + Send {
                    (**self).$method(data, delivery)
                }
            )*

            fn unknown(&self, event: UnknownEvent, delivery: Delivery<'_>) -> impl Future<Output = Handled> + Send {
                (**self).unknown(event, delivery)
            }

            fn untyped(&self, event: UntypedEvent, delivery: Delivery<'_>) -> impl Future<Output = Handled> + Send {
                (**self).untyped(event, delivery)
            }
        }

        /// Runs the method of `handler` for the type of `data`.
        pub(super) async fn handle<H: Handler>(handler: &H, data: EventData, delivery: Delivery<'_>) -> Handled {
            match data {
                $( EventData::$variant(data) => handler.$method(data, delivery).await, )*
                EventData::Unknown(event) => handler.unknown(event, delivery).await,
                EventData::Untyped(event) => handler.untyped(event, delivery).await,
            }
        }
    };
}

event_types!(handler);

/// Accepts a delivery the application has no handler for.
fn ignore<T>(data: T, delivery: Delivery<'_>) -> future::Ready<Handled> {
    let _ = (data, delivery);
    future::ready(Ok(()))
}

/// What a handler knows of a delivery besides its typed data.
///
/// `Debug` shows the body's length, not the body: it is FoxReach's data about
/// your leads.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Delivery<'a> {
    /// When FoxReach says the event happened (the body's signed `timestamp`).
    pub timestamp: &'a Timestamp,
    /// The raw body, exactly as received and verified.
    pub body: &'a [u8],
    /// The delivery's identity for duplicate suppression: the same for
    /// every copy FoxReach sends of it, whichever of the verifier's secrets
    /// signed it (see [`DeliveryKey`] on rotation).
    pub key: DeliveryKey,
    /// Which of the application's webhooks it came to, when the receiver
    /// serves several ([`crate::tenant`]); `None` with a single verifier.
    /// The key above is then scoped to it ([`DeliveryKey::for_tenant`]).
    pub tenant: Option<&'a Tenant>,
}

impl<'a> Delivery<'a> {
    /// The metadata of a delivery whose signature verified, for calling a
    /// [`Handler`] directly (in the application's own tests, say). The key is
    /// usually [`DeliveryKey::verify`]'s, or [`DeliveryKey::of_body`] in a test.
    ///
    /// ```
    /// use foxreach_webhooks::delivery::{Delivery, DeliveryKey};
    /// use foxreach_webhooks::event::Timestamp;
    ///
    /// let body = br#"{"event":"lead.created","timestamp":"2025-01-14T08:00:00Z","data":{"leadId":"cld_1"}}"#;
    /// let timestamp = Timestamp::new("2025-01-14T08:00:00Z");
    /// let delivery = Delivery::new(&timestamp, body, DeliveryKey::of_body(body));
    /// assert_eq!(delivery.body.len(), body.len());
    /// ```
    #[must_use]
    pub fn new(timestamp: &'a Timestamp, body: &'a [u8], key: DeliveryKey) -> Self {
        Self { timestamp, body, key, tenant: None }
    }

    /// The same delivery, for `tenant` (its key is taken as it is: scope it
    /// with [`DeliveryKey::for_tenant`] first, as the receivers do).
    #[must_use]
    pub fn with_tenant(self, tenant: &'a Tenant) -> Self {
        Self { tenant: Some(tenant), ..self }
    }
}

impl fmt::Debug for Delivery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("timestamp", self.timestamp)
            .field("body_len", &self.body.len())
            .field("key", &self.key)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}
