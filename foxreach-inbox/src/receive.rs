//! The inbox as what the HTTP glue of `foxreach-webhooks` hands verified
//! deliveries to: kept, and answered once durable.

use std::time::SystemTime;

use foxreach_webhooks::delivery::{Outcome, VerifiedDelivery};
use foxreach_webhooks::{EventType, observe};

use crate::{Appended, Inbox, NewEntry};

/// Appends the delivery as it came and says what to answer:
/// [`Outcome::Kept`] (`202`) once it is durable, [`Outcome::Duplicate`]
/// (`200`) for a delivery kept already, in any state,
/// [`Outcome::InboxFull`] (`503`) past the inbox's bound on open entries,
/// or [`Outcome::InboxUnavailable`] (`503`). Counted in
/// `foxreach_webhooks_deliveries_total` like every other receiver's
/// deliveries.
///
/// This is what the engines'
/// [`Receive`](foxreach_webhooks::delivery::Receive) does; call it from the `Receive`
/// of an engine of your own (a trait of another crate cannot be implemented
/// here for every [`Inbox`]).
pub async fn keep<I: Inbox>(inbox: &I, delivery: VerifiedDelivery) -> Outcome {
    let VerifiedDelivery { body, key, tenant, .. } = delivery;
    let mut entry = NewEntry::new(key, body, SystemTime::now());
    entry.tenant = tenant;
    let event_type = entry.event_type.as_deref().and_then(|name| name.parse::<EventType>().ok());
    let tenant = entry.tenant.clone();
    let outcome = match inbox.append(entry).await {
        Ok(Appended::New(_)) => Outcome::Kept,
        Ok(Appended::Duplicate(_)) => Outcome::Duplicate,
        Err(error) if error.is_full() => {
            tracing::warn!(
                target: "foxreach_webhooks::inbox",
                key = %key,
                %error,
                "answering 503 so that FoxReach keeps the delivery and retries",
            );
            Outcome::InboxFull(Box::new(error))
        }
        Err(error) => {
            tracing::error!(
                target: "foxreach_webhooks::inbox",
                key = %key,
                %error,
                "the inbox could not keep a delivery; answering 503 so that FoxReach retries",
            );
            Outcome::InboxUnavailable(Box::new(error))
        }
    };
    observe::delivery(event_type, tenant.as_ref(), &outcome);
    outcome
}

/// Implements [`Receive`] for an engine with [`keep`]: an inbox never
/// refuses a body, it keeps whatever verified.
macro_rules! receive_by_keeping {
    ($($(#[$meta:meta])* $engine:ty;)*) => {$(
        $(#[$meta])*
        impl foxreach_webhooks::delivery::Receive for $engine {
            async fn receive(
                &self,
                delivery: VerifiedDelivery,
            ) -> Result<Outcome, foxreach_webhooks::ParseError> {
                Ok(keep(self, delivery).await)
            }
        }
    )*};
}

receive_by_keeping! {
    #[cfg(feature = "sqlite")]
    crate::SqliteInbox;
    #[cfg(feature = "redis")]
    crate::RedisInbox;
}
