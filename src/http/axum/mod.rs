//! axum extractors for FoxReach webhooks (feature `axum`).
//!
//! [`FoxReachEvent`] yields the verified, typed [`Event`](crate::Event), and
//! [`VerifiedBody`] the verified raw bytes. Both
//! work with or without [`VerifySignatureLayer`]: behind the layer they take
//! what it stored and do no work twice; without it they read the
//! [`Verifier`](crate::Verifier) from the router's state (`FromRef`), read
//! the body as axum's `Json` does (so `DefaultBodyLimit` applies, capped at
//! [`DEFAULT_BODY_LIMIT`](crate::http::DEFAULT_BODY_LIMIT)), verify, parse.
//! Refusals are [`WebhookRejection`](crate::http::WebhookRejection)s, which
//! answer with the same statuses as the layer.
//!
//! [`VerifySignatureLayer`]: crate::http::tower::VerifySignatureLayer
//!
//! # Example
//!
//! ```
//! use axum::{Router, http::StatusCode, routing::post};
//! use foxreach_webhooks::http::axum::FoxReachEvent;
//! use foxreach_webhooks::{EventData, Verifier};
//!
//! async fn receive(FoxReachEvent(event): FoxReachEvent) -> StatusCode {
//!     match &event.data {
//!         EventData::ReplyReceived(reply) => println!("lead {} replied", reply.lead_id),
//!         other => println!("{} ignored", other.name()),
//!     }
//!     StatusCode::NO_CONTENT
//! }
//!
//! # fn main() -> Result<(), foxreach_webhooks::SecretError> {
//! let verifier = Verifier::new("the-webhook-secret")?;
//! let app: Router = Router::new().route("/webhooks/foxreach", post(receive)).with_state(verifier);
//! # Ok(())
//! # }
//! ```

mod body;
mod event;
mod response;
#[cfg(feature = "delivery")]
mod router;
#[cfg(feature = "delivery")]
mod tenant_router;

/// The verified-body extractor, also at [`crate::http::VerifiedBody`].
#[doc(no_inline)]
pub use crate::http::VerifiedBody;
pub use event::FoxReachEvent;
#[cfg(feature = "delivery")]
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub use router::router;
#[cfg(feature = "delivery")]
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub use tenant_router::tenant_router;
