use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::http::{Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use super::{RequestBody, VerifySignature, VerifySignatureLayer};
use crate::Verifier;
use crate::delivery::{Dispatcher, Handler, MemoryStore, SeenStore};
use crate::http::FullBody;
use crate::http::dispatch::{dispatch, take_verified};
use crate::http::plain::plain_text;

/// A complete FoxReach receiver as a tower service, as [`receiver`] builds
/// it: [`VerifySignature`] around a [`DispatcherService`].
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub type Receiver<H, S = MemoryStore> = VerifySignature<DispatcherService<H, S>>;

/// A complete FoxReach receiver as a tower service: the signature verified,
/// the event parsed and handed to `dispatcher`, answered with the statuses
/// of [`WebhookRejection`](crate::http::WebhookRejection) and
/// [`Outcome`](crate::delivery::Outcome). Serve it with hyper, or mount it in
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
/// let _app: &App = service.get_ref().dispatcher().handler();
/// # Ok::<(), foxreach_webhooks::SecretError>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub fn receiver<H: Handler, S: SeenStore>(verifier: Verifier, dispatcher: Dispatcher<H, S>) -> Receiver<H, S> {
    VerifySignatureLayer::new(verifier).layer(DispatcherService { dispatcher })
}

/// A [`Dispatcher`] as the tower service behind [`VerifySignature`] in a
/// [`Receiver`]: it hands each verified request to the dispatcher and answers
/// with the outcome. A request that did not pass the layer (taken through
/// [`VerifySignature::get_mut`], say) is refused with `500`, so that nothing
/// is lost while the wiring is fixed.
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub struct DispatcherService<H, S> {
    dispatcher: Dispatcher<H, S>,
}

impl<H, S> DispatcherService<H, S> {
    /// The dispatcher.
    pub fn dispatcher(&self) -> &Dispatcher<H, S> {
        &self.dispatcher
    }
}

impl<H, S> Clone for DispatcherService<H, S> {
    fn clone(&self) -> Self {
        Self { dispatcher: self.dispatcher.clone() }
    }
}

impl<H: fmt::Debug, S: fmt::Debug> fmt::Debug for DispatcherService<H, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DispatcherService").field("dispatcher", &self.dispatcher).finish()
    }
}

impl<H: Handler, S: SeenStore> Service<Request<RequestBody>> for DispatcherService<H, S> {
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
        let dispatcher = self.dispatcher.clone();
        Box::pin(async move { Ok(dispatch(&dispatcher, body, event).await) })
    }
}

/// A request that reached [`DispatcherService`] without passing
/// [`VerifySignature`]: a wiring mistake, answered with a retryable status.
fn unverified() -> Response<FullBody> {
    tracing::error!(
        target: "foxreach_webhooks::delivery",
        "a request reached the receiver's dispatcher without VerifySignatureLayer; refusing it with 500",
    );
    plain_text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "receiver misconfigured: the request was not verified; send it again later",
    )
}
