use std::ops::{Deref, DerefMut};

use ::axum::extract::{FromRef, FromRequest, Request};

use crate::http::{VerifiedBody, WebhookRejection};
use crate::{Event, Verifier};

/// Extracts the verified, typed FoxReach [`Event`] of a webhook request.
///
/// Behind [`VerifySignatureLayer`](crate::http::tower::VerifySignatureLayer)
/// it takes the event the layer parsed (or parses the bytes it verified);
/// otherwise it verifies the body with the [`Verifier`] from the router's
/// state first. See the [module docs](super) for an example.
///
/// It parses with [`Event::from_slice_lenient`]: a payload that drifted from
/// FoxReach's docs is extracted with its odd fields degraded (see
/// [`Event::degraded_fields`]), and one whose ids are missing as
/// [`EventData::Untyped`](crate::EventData::Untyped), so match with a
/// wildcard arm and keep what you cannot handle. Only a body that is not
/// JSON (`400`) or has no string `event` (`422`) is refused.
#[derive(Debug, Clone, PartialEq)]
pub struct FoxReachEvent(pub Event);

impl<S> FromRequest<S> for FoxReachEvent
where
    S: Send + Sync,
    Verifier: FromRef<S>,
{
    type Rejection = WebhookRejection;

    async fn from_request(mut request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(event) = request.extensions_mut().remove::<Event>() {
            return Ok(Self(event));
        }
        let body = VerifiedBody::from_request(request, state).await?;
        Ok(Self(Event::from_slice_lenient(&body)?))
    }
}

impl Deref for FoxReachEvent {
    type Target = Event;

    fn deref(&self) -> &Event {
        &self.0
    }
}

impl DerefMut for FoxReachEvent {
    fn deref_mut(&mut self) -> &mut Event {
        &mut self.0
    }
}
