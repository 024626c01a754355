use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::http::{Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use super::{RequestBody, VerifySignature, VerifySignatureLayer};
use crate::Verifier;
use crate::delivery::Receive;
use crate::http::FullBody;
use crate::http::dispatch::{dispatch, take_verified};
use crate::http::plain::plain_text;

/// A complete FoxReach receiver as a tower service, as [`receiver`] builds
/// it: [`VerifySignature`] around a [`ReceiveService`]. `R` is a
/// [`Dispatcher`](crate::delivery::Dispatcher) or an inbox (`foxreach-inbox`).
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub type Receiver<R> = VerifySignature<ReceiveService<R>>;

/// A complete FoxReach receiver as a tower service: the signature verified,
/// the delivery handed to `receiver`, answered with the statuses of
/// [`WebhookRejection`](crate::http::WebhookRejection) and
/// [`Outcome`](crate::delivery::Outcome).
///
/// `receiver` is a [`Dispatcher`](crate::delivery::Dispatcher), which parses the event and runs the
/// handler before answering, or a durable inbox such as
/// `foxreach_inbox::SqliteInbox`, which keeps the delivery and answers
/// `202` once it is on disk, for the inbox's workers to process. Serve it with hyper, or mount it in
/// any tower-based framework; it answers every request it gets, whatever its
/// method or path, so route only FoxReach's `POST`s to it.
///
/// # Example
///
/// ```
/// use foxreach_webhooks::delivery::{Dispatcher, Handler};
/// use foxreach_webhooks::http::tower::receiver;
/// use foxreach_webhooks::Verifier;
///
/// struct App;
/// impl Handler for App {}
///
/// let service = receiver(Verifier::new("the-webhook-secret")?, Dispatcher::new(App));
/// // The dispatcher stays reachable, for the handler's state.
/// let _app: &App = service.get_ref().receiver().handler();
/// # Ok::<(), foxreach_webhooks::SecretError>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub fn receiver<R: Receive>(verifier: Verifier, receiver: R) -> Receiver<R> {
    // The receiver parses if it needs the event: an inbox keeps any body.
    VerifySignatureLayer::new(verifier).parse_events(false).layer(ReceiveService { receiver })
}

/// A [`Dispatcher`](crate::delivery::Dispatcher) or an inbox as the tower service behind
/// [`VerifySignature`] in a [`Receiver`]: it hands each verified request to
/// it and answers with the outcome. A request that did not pass the layer (taken through
/// [`VerifySignature::get_mut`], say) is refused with `500`, so that nothing
/// is lost while the wiring is fixed.
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
#[derive(Clone, Debug)]
pub struct ReceiveService<R> {
    receiver: R,
}

impl<R> ReceiveService<R> {
    /// The dispatcher or inbox.
    pub fn receiver(&self) -> &R {
        &self.receiver
    }
}

impl<R: Receive> Service<Request<RequestBody>> for ReceiveService<R> {
    type Response = Response<FullBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<RequestBody>) -> Self::Future {
        let Some((body, event)) = take_verified(request.extensions_mut()) else {
            return Box::pin(std::future::ready(Ok(unverified())));
        };
        let receiver = self.receiver.clone();
        Box::pin(async move { Ok(dispatch(&receiver, body, event, None).await) })
    }
}

/// A request that reached [`ReceiveService`] without passing
/// [`VerifySignature`]: a wiring mistake, answered with a retryable status.
fn unverified() -> Response<FullBody> {
    tracing::error!(
        target: "foxreach_webhooks::delivery",
        "a request reached the receiver without VerifySignatureLayer; refusing it with 500",
    );
    plain_text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "receiver misconfigured: the request was not verified; send it again later",
    )
}
