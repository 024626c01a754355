use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::http::{Request, Response, StatusCode};
use bytes::Bytes;
use http_body_util::Full;
use tower_layer::Layer;
use tower_service::Service;

use super::{RequestBody, VerifySignature, VerifySignatureLayer};
use crate::delivery::{DeliveryKey, Dispatcher, Handler, SeenStore};
use crate::http::headers::SIGNATURE;
use crate::http::plain::plain_text;
use crate::http::{VerifiedBody, WebhookRejection};
use crate::{Event, Verifier};

/// A complete FoxReach receiver as a tower service: [`VerifySignature`]
/// around a [`Dispatch`] of `dispatcher`. Serve it with hyper, or mount it
/// in any tower-based framework.
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
/// # Ok::<(), foxreach_webhooks::SecretError>(())
/// ```
pub fn receiver<H: Handler, S: SeenStore>(
    verifier: Verifier,
    dispatcher: Dispatcher<H, S>,
) -> VerifySignature<Dispatch<H, S>> {
    VerifySignatureLayer::new(verifier).layer(Dispatch::new(dispatcher))
}

/// The service that hands verified requests to a [`Dispatcher`] and answers
/// with the [`Outcome`](crate::delivery::Outcome)'s status. It must run
/// behind [`VerifySignatureLayer`], which [`receiver`] sets up: it refuses
/// (`500`, so that nothing is lost) a request that did not pass the layer.
pub struct Dispatch<H, S> {
    dispatcher: Arc<Dispatcher<H, S>>,
}

impl<H: Handler, S: SeenStore> Dispatch<H, S> {
    /// A service dispatching with `dispatcher`.
    pub fn new(dispatcher: Dispatcher<H, S>) -> Self {
        Self { dispatcher: Arc::new(dispatcher) }
    }

    /// The dispatcher.
    pub fn dispatcher(&self) -> &Dispatcher<H, S> {
        &self.dispatcher
    }
}

impl<H, S> Clone for Dispatch<H, S> {
    fn clone(&self) -> Self {
        Self { dispatcher: Arc::clone(&self.dispatcher) }
    }
}

impl<H: fmt::Debug, S: fmt::Debug> fmt::Debug for Dispatch<H, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatch").field("dispatcher", &self.dispatcher).finish()
    }
}

impl<H: Handler, S: SeenStore> Service<Request<RequestBody>> for Dispatch<H, S> {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<RequestBody>) -> Self::Future {
        let dispatcher = Arc::clone(&self.dispatcher);
        Box::pin(async move {
            let Some(body) = request.extensions_mut().remove::<VerifiedBody>() else {
                return Ok(unverified());
            };
            let key = DeliveryKey::new(body.mac());
            let event = match request.extensions_mut().remove::<Event>().map_or_else(|| Event::from_slice(&body), Ok) {
                Ok(event) => event,
                Err(error) => {
                    let rejection = WebhookRejection::from_parse(error);
                    rejection.log();
                    return Ok(plain_text(rejection.status(), rejection.body_text()));
                }
            };
            // The layer verified this header, so it is there and is text.
            let signature = request.headers().get(SIGNATURE).and_then(|value| value.to_str().ok()).unwrap_or_default();
            Ok(dispatcher.dispatch_keyed(event, &body, signature, key).await.into_http_response())
        })
    }
}

/// A request that reached [`Dispatch`] without passing [`VerifySignature`]:
/// a wiring mistake, answered with a retryable status so that no delivery is
/// lost while it is fixed.
fn unverified() -> Response<Full<Bytes>> {
    tracing::error!(
        target: "foxreach_webhooks::delivery",
        "a request reached Dispatch without VerifySignatureLayer; refusing it with 500",
    );
    plain_text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "receiver misconfigured: the request was not verified; send it again later",
    )
}
