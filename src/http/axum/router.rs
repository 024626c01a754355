use std::sync::Arc;

use ::axum::extract::{Request, State};
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::post;
use ::axum::{RequestExt, Router};

use super::body::read;
use crate::Verifier;
use crate::delivery::Receive;
use crate::http::dispatch::{dispatch, take_verified};

/// A complete FoxReach receiver as an axum [`Router`]: `POST path` verifies
/// the signature and hands the delivery to `receiver`, answering with the
/// statuses of [`WebhookRejection`](crate::http::WebhookRejection) and
/// [`Outcome`](crate::delivery::Outcome). Other methods get `405`.
///
/// `receiver` is a [`Dispatcher`](crate::delivery::Dispatcher), which parses
/// the event and runs the handler before answering, or a durable inbox
/// such as `foxreach_inbox::SqliteInbox`, which keeps the delivery and
/// answers `202` once it is on disk, for the inbox's workers to process.
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
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub fn router<R: Receive>(path: &str, verifier: Verifier, receiver: R) -> Router {
    let state = Arc::new(RouterState { verifier, receiver });
    Router::new().route(path, post(receive::<R>)).with_state(state)
}

/// The router's state, behind one `Arc`: one reference count per request.
struct RouterState<R> {
    verifier: Verifier,
    receiver: R,
}

async fn receive<R: Receive>(State(state): State<Arc<RouterState<R>>>, request: Request) -> Response {
    let (mut parts, body) = request.with_limited_body().into_parts();
    // Behind `VerifySignatureLayer`, what it verified (and parsed, if it did).
    let (verified, event) = match take_verified(&mut parts.extensions) {
        Some(taken) => taken,
        None => match read(&parts, body, &state.verifier).await {
            Ok(verified) => (verified, None),
            Err(rejection) => return rejection.into_response(),
        },
    };
    dispatch(&state.receiver, verified, event, None).await.into_response()
}
