//! Why a request was refused, and the one place its HTTP status is decided.

use std::error::Error as StdError;
use std::fmt;

use ::http::StatusCode;

use crate::{ParseError, VerifyError};

/// An error from reading a request body, as the body type reported it.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// Why a webhook request was refused, with the HTTP status to answer.
///
/// The tower layer answers with it and the axum extractors reject with it, so
/// both map causes to statuses the same way:
///
/// | cause | status |
/// | --- | --- |
/// | missing, malformed or mismatched signature | `401 Unauthorized` |
/// | body over the size limit | `413 Payload Too Large` |
/// | body could not be read | `400 Bad Request` |
/// | verified body is not JSON | `400 Bad Request` |
/// | verified JSON is not a FoxReach event | `422 Unprocessable Entity` |
///
/// Every status is non-2xx, so FoxReach retries the delivery (after 1, 5 and
/// 30 minutes). The response body is [`body_text`](Self::body_text): short
/// plain text a person can act on, never the secret, the expected MAC or the
/// request body. [`Display`](fmt::Display) is the same text, and
/// [`source`](StdError::source) gives the underlying error for logging.
///
/// # Example
///
/// ```
/// use foxreach_webhooks::http::WebhookRejection;
///
/// let verifier = foxreach_webhooks::Verifier::new("secret")?;
/// let headers = http::HeaderMap::new();
/// let rejection = WebhookRejection::from(verifier.verify_headers(&headers, b"{}").unwrap_err());
/// assert_eq!(rejection.status(), http::StatusCode::UNAUTHORIZED);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// No `X-Webhook-Signature` header, or an empty one.
    MissingSignature(VerifyError),
    /// The header is not 64 hex digits, or was sent more than once.
    MalformedSignature(VerifyError),
    /// The signature does not match the body under any configured secret.
    SignatureMismatch(VerifyError),
    /// The body is larger than the receiver accepts.
    PayloadTooLarge {
        /// The limit in bytes, where this crate set it (axum's
        /// `DefaultBodyLimit` may have refused the body first).
        limit: Option<usize>,
    },
    /// The body could not be read (the connection failed mid-body, say).
    BodyRead(BoxError),
    /// The verified body is not JSON.
    InvalidJson(ParseError),
    /// The verified body is JSON, but not a FoxReach event of the documented shape.
    InvalidEvent(ParseError),
}

impl WebhookRejection {
    /// The HTTP status to answer with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingSignature(_) | Self::MalformedSignature(_) | Self::SignatureMismatch(_) => {
                StatusCode::UNAUTHORIZED
            }
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyRead(_) | Self::InvalidJson(_) => StatusCode::BAD_REQUEST,
            Self::InvalidEvent(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// The plain-text response body.
    #[must_use]
    pub fn body_text(&self) -> String {
        self.to_string()
    }
}

impl From<VerifyError> for WebhookRejection {
    fn from(err: VerifyError) -> Self {
        match err {
            VerifyError::Missing => Self::MissingSignature(err),
            VerifyError::Malformed { .. } => Self::MalformedSignature(err),
            // A mismatch, or a cause added later: either way the body is not trusted.
            _ => Self::SignatureMismatch(err),
        }
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingSignature(err) | Self::MalformedSignature(err) | Self::SignatureMismatch(err) => {
                fmt::Display::fmt(err, f)
            }
            Self::PayloadTooLarge { limit: Some(limit) } => {
                write!(f, "request body is larger than the {limit} bytes this FoxReach webhook receiver accepts")
            }
            Self::PayloadTooLarge { limit: None } => {
                f.write_str("request body is larger than this FoxReach webhook receiver accepts")
            }
            Self::BodyRead(_) => f.write_str("the request body could not be read to its end"),
            Self::InvalidJson(err) | Self::InvalidEvent(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl StdError for WebhookRejection {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::MissingSignature(err) | Self::MalformedSignature(err) | Self::SignatureMismatch(err) => Some(err),
            Self::PayloadTooLarge { .. } => None,
            Self::BodyRead(err) => Some(&**err),
            Self::InvalidJson(err) | Self::InvalidEvent(err) => Some(err),
        }
    }
}
