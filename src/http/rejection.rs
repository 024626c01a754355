//! Why a request was refused: its status, its answer and its log line, each
//! decided here and nowhere else.

use std::error::Error as StdError;
use std::fmt;

use ::http::{Response, StatusCode};

use super::FullBody;
use super::plain::plain_text;
use crate::event::ParseErrorKind;
use crate::{ParseError, VerifyError};

/// An error from reading a request body, as the body type reported it.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// Why a webhook request was refused, with the HTTP answer to give.
///
/// The tower layer, the axum extractors and the one-call receivers all
/// answer a refusal with [`into_http_response`](Self::into_http_response)
/// (axum's `IntoResponse` calls it too), so causes map to statuses the same
/// way everywhere:
///
/// | variant | cause | status |
/// | --- | --- | --- |
/// | [`InvalidSignature`](Self::InvalidSignature) | missing, malformed or mismatched signature | `401 Unauthorized` |
/// | [`PayloadTooLarge`](Self::PayloadTooLarge) | body over the size limit | `413 Payload Too Large` |
/// | [`BodyRead`](Self::BodyRead) | body could not be read | `400 Bad Request` |
/// | [`InvalidEvent`](Self::InvalidEvent) | verified body is not JSON | `400 Bad Request` |
/// | [`InvalidEvent`](Self::InvalidEvent) | verified JSON is not a FoxReach event (strictly parsed), or (leniently) has no string `event` | `422 Unprocessable Entity` |
/// | [`UnknownTenant`](Self::UnknownTenant) | a receiver of several webhooks: the URL names no tenant the application knows | `404 Not Found` |
/// | [`TenantUnavailable`](Self::TenantUnavailable) | a receiver of several webhooks: the secret resolver failed | `503 Service Unavailable`, `Retry-After: 60` |
///
/// Every status is non-2xx, so FoxReach retries the delivery (after 1, 5 and
/// 30 minutes). The response body is [`body_text`](Self::body_text): short
/// plain text a person can act on, never the secret, the expected MAC, the
/// request body or a resolver's error. [`Display`](fmt::Display) is the same
/// text, and [`source`](StdError::source) gives the underlying error.
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
/// assert!(rejection.body_text().starts_with("missing X-Webhook-Signature header"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// The `X-Webhook-Signature` header is missing, malformed (not 64 hex
    /// digits, or sent twice) or does not match the body under any
    /// configured secret: the [`VerifyError`] says which.
    InvalidSignature(VerifyError),
    /// The body is larger than the receiver accepts.
    PayloadTooLarge {
        /// The limit in bytes, where this crate set it (axum's
        /// `DefaultBodyLimit` may have refused the body first).
        limit: Option<usize>,
    },
    /// The body could not be read (the connection failed mid-body, say).
    BodyRead(BoxError),
    /// The verified body is not a FoxReach event: not JSON at all
    /// ([`ParseErrorKind::Syntax`] or [`ParseErrorKind::Eof`]), or JSON of
    /// another shape ([`ParseErrorKind::Data`]).
    InvalidEvent(ParseError),
    /// The request's URL names no tenant of a receiver of several webhooks
    /// (see `foxreach_webhooks::tenant`): the resolver knows none by that
    /// name, or it is not a valid tenant name. `404`: FoxReach retries it on
    /// its schedule, then counts the webhook unhealthy, which is what a
    /// webhook pointing at a deleted tenant should become.
    UnknownTenant,
    /// The secret resolver of a receiver of several webhooks failed (its
    /// database unreachable, say): the error is in [`source`](StdError::source)
    /// and the log, never in the answer. `503` with `Retry-After`, so that
    /// FoxReach retries once the resolver is back.
    TenantUnavailable(BoxError),
}

impl WebhookRejection {
    /// The HTTP status to answer with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidSignature(_) => StatusCode::UNAUTHORIZED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyRead(_) => StatusCode::BAD_REQUEST,
            Self::InvalidEvent(err) => match err.kind() {
                ParseErrorKind::Data => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_REQUEST,
            },
            Self::UnknownTenant => StatusCode::NOT_FOUND,
            Self::TenantUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The plain-text response body.
    #[must_use]
    pub fn body_text(&self) -> String {
        self.to_string()
    }

    /// The answer: [`status`](Self::status) with [`body_text`](Self::body_text)
    /// as `text/plain` (and `Retry-After: 60` for
    /// [`TenantUnavailable`](Self::TenantUnavailable)). With feature `tracing`, the refusal is logged here at
    /// debug level (target `foxreach_webhooks::rejection`: the status and the
    /// reason, never the body or a secret), so that every answered refusal is
    /// logged exactly once; with feature `metrics` it is counted here too
    /// (`foxreach_webhooks_refusals_total`).
    #[must_use]
    pub fn into_http_response(self) -> Response<FullBody> {
        self.log();
        let mut response = plain_text(self.status(), self.body_text());
        if matches!(self, Self::TenantUnavailable(_)) {
            response.headers_mut().insert(::http::header::RETRY_AFTER, ::http::HeaderValue::from_static("60"));
        }
        response
    }

    /// A rejection for a body that could not be collected: too large if any
    /// error in the chain is a length limit, otherwise unreadable.
    #[cfg(feature = "tower")]
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

    /// The refusal's `reason` label in `foxreach_webhooks_refusals_total`
    /// (see [`crate::observe`]).
    fn reason(&self) -> &'static str {
        match self {
            Self::InvalidSignature(VerifyError::Missing) => "missing_signature",
            Self::InvalidSignature(VerifyError::Malformed { .. }) => "malformed_signature",
            Self::InvalidSignature(VerifyError::EmptySecret) => "empty_secret",
            Self::InvalidSignature(_) => "signature_mismatch",
            Self::PayloadTooLarge { .. } => "too_large",
            Self::BodyRead(_) => "unreadable_body",
            Self::InvalidEvent(err) => match err.kind() {
                ParseErrorKind::Data => "not_an_event",
                _ => "not_json",
            },
            Self::UnknownTenant => "unknown_tenant",
            Self::TenantUnavailable(_) => "tenant_unavailable",
        }
    }

    fn log(&self) {
        crate::observe::refusal(self.reason());
        #[cfg(feature = "tracing")]
        tracing::debug!(
            target: "foxreach_webhooks::rejection",
            status = self.status().as_u16(),
            reason = %self,
            "rejected a FoxReach webhook request",
        );
    }
}

impl From<VerifyError> for WebhookRejection {
    fn from(err: VerifyError) -> Self {
        Self::InvalidSignature(err)
    }
}

impl From<ParseError> for WebhookRejection {
    fn from(err: ParseError) -> Self {
        Self::InvalidEvent(err)
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidSignature(err) => fmt::Display::fmt(err, f),
            Self::PayloadTooLarge { limit: Some(limit) } => {
                write!(f, "request body is larger than the {limit} bytes this FoxReach webhook receiver accepts")
            }
            Self::PayloadTooLarge { limit: None } => {
                f.write_str("request body is larger than this FoxReach webhook receiver accepts")
            }
            Self::BodyRead(_) => f.write_str("the request body could not be read to its end"),
            Self::InvalidEvent(err) => fmt::Display::fmt(err, f),
            Self::UnknownTenant => f.write_str("no FoxReach webhook is received at this URL"),
            Self::TenantUnavailable(_) => {
                f.write_str("this webhook's secret could not be looked up; send the delivery again later")
            }
        }
    }
}

impl StdError for WebhookRejection {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::InvalidSignature(err) => Some(err),
            Self::PayloadTooLarge { .. } => None,
            Self::BodyRead(err) => Some(&**err),
            Self::InvalidEvent(err) => Some(err),
            Self::UnknownTenant => None,
            Self::TenantUnavailable(err) => Some(&**err),
        }
    }
}
