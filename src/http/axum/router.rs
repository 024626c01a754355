use std::sync::Arc;

use ::axum::extract::{Request, State};
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::post;
use ::axum::{RequestExt, Router};

use super::body::read;
use crate::delivery::{DeliveryKey, Dispatcher, Handler, SeenStore};
use crate::http::WebhookRejection;
use crate::http::headers::SIGNATURE;
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

/// Not an `async fn`: one would keep the whole request in its future, beside
/// the parts it is split into.
fn receive<H: Handler, S: SeenStore>(
    State(receiver): State<Arc<Receiver<H, S>>>,
    request: Request,
) -> impl Future<Output = Response> + Send {
    let (mut parts, body) = request.with_limited_body().into_parts();
    async move {
        let (body, signature) = match read(&parts.headers, &parts.extensions, body, &receiver.verifier).await {
            Ok(read) => read,
            Err(rejection) => return rejection.into_response(),
        };
        let key = DeliveryKey::new(body.mac());
        let (parsed, signature) = match signature {
            Some(signature) => (Event::from_slice(&body), signature),
            // Behind `VerifySignatureLayer`, which verified the header and
            // may have parsed the event already.
            None => (
                parts.extensions.remove::<Event>().map_or_else(|| Event::from_slice(&body), Ok),
                parts.headers.get(SIGNATURE).and_then(|value| value.to_str().ok()).unwrap_or_default(),
            ),
        };
        match parsed {
            Ok(event) => receiver.dispatcher.dispatch_keyed(event, &body, signature, key).await.into_response(),
            Err(error) => {
                let rejection = WebhookRejection::from_parse(error);
                rejection.log();
                rejection.into_response()
            }
        }
    }
}
