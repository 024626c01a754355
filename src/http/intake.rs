//! The steps that the layer and the extractors share, in order: refuse by
//! `Content-Length`, collect the body with a cap, verify it.

use ::http::{HeaderMap, header};
use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, Limited};

use super::VerifiedBody;
use super::rejection::{BoxError, WebhookRejection};
use crate::Verifier;

/// Refuses a body whose declared length is over `limit`, before reading any
/// of it. A body without `Content-Length` (chunked) is capped while it is read.
pub(crate) fn check_content_length(headers: &HeaderMap, limit: usize) -> Result<(), WebhookRejection> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit as u64 => Err(WebhookRejection::PayloadTooLarge { limit: Some(limit) }),
        _ => Ok(()),
    }
}

/// A body capped at `limit` bytes: reading stops with an error as soon as
/// the limit is crossed, so memory stays bounded whatever the sender does.
pub(crate) fn limited<B>(body: B, limit: usize) -> http_body_util::combinators::Collect<Limited<B>>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    Limited::new(body, limit).collect()
}

/// Collects a body with [`check_content_length`] and [`limited`].
#[cfg(feature = "axum")]
pub(crate) async fn collect<B>(headers: &HeaderMap, body: B, limit: usize) -> Result<Bytes, WebhookRejection>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    check_content_length(headers, limit)?;
    match limited(body, limit).await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) => Err(WebhookRejection::from_body_error(err, Some(limit))),
    }
}

/// Verifies collected bytes against the request's signature header, the one
/// time it is looked up.
pub(crate) fn verify(verifier: &Verifier, headers: &HeaderMap, bytes: Bytes) -> Result<VerifiedBody, WebhookRejection> {
    let mac = verifier.verify_headers_for_key(headers, &bytes)?;
    Ok(VerifiedBody::new(bytes, mac))
}
