use ::axum::Router;
use ::axum::routing::post_service;

use crate::Verifier;
use crate::delivery::{Dispatcher, Handler, SeenStore};
use crate::http::tower::receiver;

/// A complete FoxReach receiver as an axum [`Router`]: `POST path` verifies
/// the signature, parses the event and hands it to `dispatcher`, answering
/// with the statuses of [`WebhookRejection`](crate::http::WebhookRejection)
/// and [`Outcome`](crate::delivery::Outcome). Other methods get `405`.
///
/// Merge it into the application's router, or serve it alone.
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
    Router::new().route(path, post_service(receiver(verifier, dispatcher)))
}
