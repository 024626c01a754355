//! The one path from a request whose body verified to its answer, for every
//! receiver this crate builds: the axum routers and the tower receivers.

use ::http::{Extensions, Response};

use super::{FullBody, VerifiedBody, WebhookRejection};
use crate::Event;
use crate::delivery::{Receive, VerifiedDelivery};
use crate::tenant::Tenant;

/// What [`VerifySignatureLayer`](super::tower::VerifySignatureLayer) left in
/// a request's extensions: the verified body and, if it parsed it, the event.
pub(crate) fn take_verified(extensions: &mut Extensions) -> Option<(VerifiedBody, Option<Event>)> {
    let body = extensions.remove::<VerifiedBody>()?;
    Some((body, extensions.remove::<Event>()))
}

/// Hands a verified delivery to `receiver` (a dispatcher, which parses it
/// unless the layer did, or an inbox, which keeps it as it came), for
/// `tenant` if the receiver serves several, answering with the refusal or
/// the outcome.
pub(crate) async fn dispatch<R: Receive>(
    receiver: &R,
    body: VerifiedBody,
    event: Option<Event>,
    tenant: Option<Tenant>,
) -> Response<FullBody> {
    let key = body.key();
    let mut delivery = VerifiedDelivery::new(body.into_bytes(), key).with_event(event);
    if let Some(tenant) = tenant {
        delivery = delivery.for_tenant(tenant);
    }
    match receiver.receive(delivery).await {
        Ok(outcome) => outcome.into_http_response(),
        Err(err) => WebhookRejection::from(err).into_http_response(),
    }
}
