//! Signed and tampered requests for testing a receiver (feature `test-util`).
//!
//! Each helper builds the `POST` FoxReach would send: a JSON body and its
//! `X-Webhook-Signature`, signed with the verifier's first secret. The body
//! is a [`FullBody`], which axum routers, tower services and hyper all accept.
//!
//! # Example
//!
//! ```
//! use foxreach_webhooks::event::{CampaignStarted, Timestamp};
//! use foxreach_webhooks::http::test_util::{signed_event, tampered};
//! use foxreach_webhooks::{Event, EventData, Verifier};
//!
//! let verifier = Verifier::new("test-secret")?;
//! let event = Event::new(
//!     Timestamp::new("2025-01-15T09:00:00Z"),
//!     EventData::CampaignStarted(CampaignStarted::new("cmp_456")),
//! );
//! let request = signed_event(&verifier, "/webhooks/foxreach", &event);
//! let headers = request.headers();
//! assert!(verifier.verify_headers(headers, br#"{"event":"campaign.started","timestamp":"2025-01-15T09:00:00Z","data":{"campaignId":"cmp_456"}}"#).is_ok());
//!
//! let forged = tampered(&verifier, "/webhooks/foxreach", "{}");
//! # Ok::<(), foxreach_webhooks::SecretError>(())
//! ```

use ::http::{Method, Request, header};
use bytes::Bytes;

use super::FullBody;
use crate::{Event, SIGNATURE_HEADER, Verifier};

/// A request carrying `body`, correctly signed.
///
/// # Panics
///
/// If `uri` is not a valid request target.
#[must_use]
pub fn signed(verifier: &Verifier, uri: &str, body: impl Into<Bytes>) -> Request<FullBody> {
    let body = body.into();
    let signature = verifier.sign(&body);
    request(uri, signature, body)
}

/// A request carrying `event` as JSON (in the wire format), correctly signed.
///
/// # Panics
///
/// If `uri` is not a valid request target.
#[must_use]
pub fn signed_event(verifier: &Verifier, uri: &str, event: &Event) -> Request<FullBody> {
    signed(verifier, uri, event_json(event))
}

/// A request whose body was changed after signing: `body` signed, then sent
/// with one space appended, which a receiver must refuse with `401`, since
/// the signature covers the exact bytes.
///
/// # Panics
///
/// If `uri` is not a valid request target.
#[must_use]
pub fn tampered(verifier: &Verifier, uri: &str, body: impl Into<Bytes>) -> Request<FullBody> {
    let body = body.into();
    let signature = verifier.sign(&body);
    let mut changed = body.to_vec();
    changed.push(b' ');
    request(uri, signature, changed.into())
}

/// `event` in the wire format.
#[must_use]
pub fn event_json(event: &Event) -> Vec<u8> {
    // An `Event` holds strings, numbers and JSON values only: it always serializes.
    serde_json::to_vec(event).unwrap_or_default()
}

fn request(uri: &str, signature: String, body: Bytes) -> Request<FullBody> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(FullBody::new(body))
        .expect("a valid request target")
}
