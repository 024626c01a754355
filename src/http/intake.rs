//! The steps that the layer and the extractors share, in order: refuse by
//! `Content-Length`, collect the body with a cap, verify it.

use ::http::{HeaderMap, header};
use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, Limited};

use super::VerifiedBody;
use super::rejection::{BoxError, WebhookRejection};
use crate::ParseError;
use crate::Verifier;
use crate::event::ParseErrorKind;
use std::error::Error as StdError;

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

#[cfg(feature = "axum")]
/// Collects a body with [`check_content_length`] and [`limited`].
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

/// Verifies collected bytes against the request's signature header.
pub(crate) fn verify(verifier: &Verifier, headers: &HeaderMap, bytes: Bytes) -> Result<VerifiedBody, WebhookRejection> {
    verify_signed(verifier, headers, bytes).map(|(body, _)| body)
}

/// As [`verify`], also returning the signature header's value, borrowed.
pub(crate) fn verify_signed<'h>(
    verifier: &Verifier,
    headers: &'h HeaderMap,
    bytes: Bytes,
) -> Result<(VerifiedBody, &'h str), WebhookRejection> {
    let (signature, mac) = verifier.verify_header_value(headers, &bytes)?;
    Ok((VerifiedBody::new(bytes, mac), signature))
}

impl WebhookRejection {
    /// A rejection for a body that failed to parse, by the kind of failure.
    pub(crate) fn from_parse(err: ParseError) -> Self {
        match err.kind() {
            ParseErrorKind::Data => Self::InvalidEvent(err),
            _ => Self::InvalidJson(err),
        }
    }

    /// A rejection for a body that could not be collected: too large if any
    /// error in the chain is a length limit, otherwise unreadable.
    pub(crate) fn from_body_error(err: BoxError, limit: Option<usize>) -> Self {
        let mut cause: Option<&(dyn StdError + 'static)> = Some(&*err);
        while let Some(err) = cause {
            if err.is::<http_body_util::LengthLimitError>() {
                return Self::PayloadTooLarge { limit };
            }
            cause = err.source();
        }
        Self::BodyRead(err)
    }

    /// Logs the rejection with `tracing` (feature `tracing`): its status and
    /// reason, never the body or a secret.
    pub(crate) fn log(&self) {
        #[cfg(feature = "tracing")]
        tracing::debug!(
            target: "foxreach_webhooks::rejection",
            status = self.status().as_u16(),
            reason = %self,
            "rejected a FoxReach webhook request",
        );
    }
}
