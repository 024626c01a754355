//! A tower layer that verifies FoxReach webhooks before the inner service
//! runs (feature `tower`).
//!
//! [`VerifySignatureLayer`] buffers the request body up to a limit, checks
//! `X-Webhook-Signature` against it and, unless told not to, parses the
//! [`Event`](crate::Event). The inner service then gets the request with:
//!
//! - the same body bytes, as a [`RequestBody`] (no copy: it shares the buffer);
//! - a [`VerifiedBody`](crate::http::VerifiedBody) in the request extensions;
//! - the parsed [`Event`](crate::Event) in the extensions, when parsing is on.
//!
//! A refused request never reaches the inner service: it is answered with
//! the [`WebhookRejection`](crate::http::WebhookRejection)'s status and text.
//!
//! # Example: around a plain service, as with hyper
//!
//! ```
//! use std::convert::Infallible;
//!
//! use foxreach_webhooks::http::tower::{RequestBody, VerifySignatureLayer};
//! use foxreach_webhooks::{Event, Verifier, SIGNATURE_HEADER};
//! use http::{Request, Response, StatusCode};
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::new("the-webhook-secret")?;
//! let service = VerifySignatureLayer::new(verifier.clone()).layer(service_fn(|request: Request<RequestBody>| async move {
//!     let event = request.extensions().get::<Event>().expect("the layer parsed it");
//!     println!("{} at {}", event.name(), event.timestamp);
//!     Ok::<_, Infallible>(Response::new(String::new()))
//! }));
//!
//! let body = r#"{"event":"campaign.paused","timestamp":"2025-01-16T09:00:00Z","data":{"campaignId":"cmp_456"}}"#;
//! let request = Request::post("/webhooks/foxreach")
//!     .header(SIGNATURE_HEADER, verifier.sign(body.as_bytes()))
//!     .body(body.to_owned())?;
//! assert_eq!(service.clone().oneshot(request).await?.status(), StatusCode::OK);
//!
//! let forged = Request::post("/webhooks/foxreach").header(SIGNATURE_HEADER, "00".repeat(32)).body(body.to_owned())?;
//! assert_eq!(service.oneshot(forged).await?.status(), StatusCode::UNAUTHORIZED);
//! # Ok(())
//! # }
//! ```
//!
//! With axum, add it with `Router::layer` or `route_layer`; see
//! [`crate::http::axum`].
//!
//! With feature `delivery`, [`receiver`] is a whole receiver in one call:
//! the layer around a [`Dispatcher`](crate::delivery::Dispatcher).

mod body;
mod future;
mod layer;
#[cfg(feature = "delivery")]
mod receiver;
mod service;
#[cfg(feature = "delivery")]
mod tenant;

pub use body::{RequestBody, ResponseBody};
pub use future::ResponseFuture;
pub use layer::VerifySignatureLayer;
#[cfg(feature = "delivery")]
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub use receiver::{ReceiveService, Receiver, receiver};
pub use service::VerifySignature;
#[cfg(feature = "delivery")]
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub use tenant::{TenantFrom, TenantReceiver, tenant_receiver};

use crate::Verifier;

/// What the layer and its services are configured with.
#[derive(Debug, Clone)]
struct Config {
    verifier: Verifier,
    body_limit: usize,
    parse_events: bool,
}
