//! The one path from a request whose body verified to its answer, for every
//! receiver this crate builds: the axum router and the tower receiver.

use ::http::{Extensions, Response};

use super::{FullBody, VerifiedBody, WebhookRejection};
use crate::Event;
use crate::delivery::{Dispatcher, Handler, SeenStore};

/// What [`VerifySignatureLayer`](super::tower::VerifySignatureLayer) left in
/// a request's extensions: the verified body and, if it parsed it, the event.
pub(crate) fn take_verified(extensions: &mut Extensions) -> Option<(VerifiedBody, Option<Event>)> {
    let body = extensions.remove::<VerifiedBody>()?;
    Some((body, extensions.remove::<Event>()))
}

/// Parses `body` (unless the layer did), leniently so that a payload that
/// drifted from FoxReach's docs still reaches the handler, and hands it to
/// `dispatcher`, answering with the refusal or the outcome.
pub(crate) async fn dispatch<H: Handler, S: SeenStore>(
    dispatcher: &Dispatcher<H, S>,
    body: VerifiedBody,
    event: Option<Event>,
) -> Response<FullBody> {
    match event.map_or_else(|| Event::from_slice_lenient(&body), Ok) {
        Ok(event) => {
            let key = body.key();
            dispatcher.dispatch(event, body.into_bytes(), key).await.into_http_response()
        }
        Err(err) => WebhookRejection::from(err).into_http_response(),
    }
}
