//! Receiving FoxReach webhooks over HTTP (feature `http`, and `tower` and
//! `axum` for the integrations).
//!
//! - [`Verifier::verify_headers`](crate::Verifier::verify_headers) checks a
//!   body against an [`http::HeaderMap`], for any server.
//! - [`tower`] has [`VerifySignatureLayer`](tower::VerifySignatureLayer), a
//!   layer for any tower or hyper service: it buffers the body with a size
//!   limit, verifies it, optionally parses the event, and passes the request
//!   on with the same bytes.
//! - [`axum`] has the [`FoxReachEvent`](axum::FoxReachEvent) extractor and
//!   [`VerifiedBody`] as an extractor, with or without the layer.
//! - [`server`] (feature `server`) serves any of them over HTTP/1.1 with
//!   header and idle timeouts, a connection limit and a shutdown deadline,
//!   so that idle and slow clients cannot starve the receiver.
//! - With feature `delivery`, a whole receiver in one call: `axum::router`
//!   and `tower::receiver` verify, parse and hand each delivery to a
//!   [`Dispatcher`](crate::delivery::Dispatcher), through one pipeline.
//!
//! Refused requests are answered with [`WebhookRejection`]'s status and text
//! (its [`into_http_response`](WebhookRejection::into_http_response), in a
//! [`FullBody`]):
//!
//! | cause | status |
//! | --- | --- |
//! | missing, malformed or mismatched `X-Webhook-Signature` | `401 Unauthorized` |
//! | body over the limit ([`DEFAULT_BODY_LIMIT`], 1 MiB) | `413 Payload Too Large` |
//! | body could not be read | `400 Bad Request` |
//! | verified body is not JSON | `400 Bad Request` |
//! | verified JSON without a string `event` | `422 Unprocessable Entity` |
//! | (several webhooks) no such tenant | `404 Not Found` |
//! | (several webhooks) the secret resolver failed | `503 Service Unavailable` |
//!
//! Events are parsed with [`Event::from_slice_lenient`](crate::Event::from_slice_lenient),
//! so nothing else is refused: an event type this crate does not know
//! arrives as [`EventData::Unknown`](crate::EventData::Unknown), one whose
//! ids are missing as [`EventData::Untyped`](crate::EventData::Untyped), and
//! a field of an unexpected type as `None`, its raw value kept.

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
mod body;
#[cfg(all(feature = "delivery", feature = "tower"))]
mod dispatch;
mod full_body;
mod headers;
#[cfg(feature = "tower")]
mod intake;
#[cfg(feature = "delivery")]
mod outcome;
mod plain;
mod rejection;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
#[cfg(all(feature = "delivery", feature = "tower"))]
mod tenant;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;

pub use body::{DEFAULT_BODY_LIMIT, VerifiedBody};
pub use full_body::FullBody;
pub use rejection::WebhookRejection;
