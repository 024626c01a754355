//! The one path from a request whose body verified to its answer, for every
//! receiver this crate builds: the axum router and the tower receiver.

use ::http::{Extensions, Response};

use super::{FullBody, VerifiedBody, WebhookRejection};
use crate::Event;
use crate::delivery::Receive;

/// What [`VerifySignatureLayer`](super::tower::VerifySignatureLayer) left in
/// a request's extensions: the verified body and, if it parsed it, the event.
pub(crate) fn take_verified(extensions: &mut Extensions) -> Option<(VerifiedBody, Option<Event>)> {
    let body = extensions.remove::<VerifiedBody>()?;
    Some((body, extensions.remove::<Event>()))
}

/// Hands a verified delivery to `receiver` (a dispatcher, which parses it
/// unless the layer did, or an inbox, which keeps it as it came), answering
/// with the refusal or the outcome.
pub(crate) async fn dispatch<R: Receive>(receiver: &R, body: VerifiedBody, event: Option<Event>) -> Response<FullBody> {
    let key = body.key();
    match receiver.receive(body.into_bytes(), key, event).await {
        Ok(outcome) => outcome.into_http_response(),
        Err(err) => WebhookRejection::from(err).into_http_response(),
    }
}
