use std::sync::Arc;

use ::axum::Router;
use ::axum::extract::{FromRef, FromRequest, Request, State};
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::post;

use crate::delivery::{Dispatcher, Handler, SeenStore};
use crate::http::headers::SIGNATURE;
use crate::http::{VerifiedBody, WebhookRejection};
use crate::{Event, Verifier};

/// A complete FoxReach receiver as an axum [`Router`]: `POST path` verifies
/// the signature, parses the event and hands it to `dispatcher`, answering
/// with the statuses of [`WebhookRejection`] and
/// [`Outcome`](crate::delivery::Outcome). Other methods get `405`.
///
/// It reads the body as the [`FoxReachEvent`](super::FoxReachEvent)
/// extractor does, so axum's `DefaultBodyLimit` applies (capped at
/// [`DEFAULT_BODY_LIMIT`](crate::http::DEFAULT_BODY_LIMIT)). Merge it into
/// the application's router, or serve it alone.
///
/// # Example
///
/// ```
/// use foxreach_webhooks::delivery::{Delivery, Dispatcher, Handled, Handler};
/// use foxreach_webhooks::event::ReplyReceived;
/// use foxreach_webhooks::http::axum::router;
/// use foxreach_webhooks::Verifier;
///
/// struct App;
///
/// impl Handler for App {
///     async fn reply_received(&self, reply: ReplyReceived, _: Delivery<'_>) -> Handled {
///         println!("lead {} replied", reply.lead_id);
///         Ok(())
///     }
/// }
///
/// let verifier = Verifier::new("the-webhook-secret")?;
/// let app: axum::Router = router("/webhooks/foxreach", verifier, Dispatcher::new(App));
/// # Ok::<(), foxreach_webhooks::SecretError>(())
/// ```
pub fn router<H: Handler, S: SeenStore>(path: &str, verifier: Verifier, dispatcher: Dispatcher<H, S>) -> Router {
    let receiver = Arc::new(Receiver { verifier, dispatcher });
    Router::new().route(path, post(receive::<H, S>)).with_state(receiver)
}

/// The router's state, behind one `Arc`: one reference count per request.
struct Receiver<H, S> {
    verifier: Verifier,
    dispatcher: Dispatcher<H, S>,
}

impl<H, S> FromRef<Arc<Receiver<H, S>>> for Verifier {
    fn from_ref(receiver: &Arc<Receiver<H, S>>) -> Self {
        receiver.verifier.clone()
    }
}

async fn receive<H: Handler, S: SeenStore>(State(receiver): State<Arc<Receiver<H, S>>>, request: Request) -> Response {
    // A cheap clone (the value shares its bytes), taken before the body
    // extractor consumes the request.
    let signature = request.headers().get(SIGNATURE).cloned();
    let body = match VerifiedBody::from_request(request, &receiver).await {
        Ok(body) => body,
        Err(rejection) => return rejection.into_response(),
    };
    // Verification passed, so the header is there and is 64 hex digits.
    let signature = signature.as_ref().and_then(|value| value.to_str().ok()).unwrap_or_default();
    match Event::from_slice(&body) {
        Ok(event) => receiver.dispatcher.dispatch(event, &body, signature).await.into_response(),
        Err(error) => {
            let rejection = WebhookRejection::from_parse(error);
            rejection.log();
            rejection.into_response()
        }
    }
}
