//! What can go wrong when talking to FoxReach's API, in one type.

use std::fmt;
use std::time::Duration;

/// Why a call to FoxReach's webhook management API failed.
///
/// No variant holds or prints the API key or a webhook secret: FoxReach's
/// messages are quoted only after every occurrence of the key is replaced
/// with `[redacted]`, shortened, and cleaned of control characters.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiError {
    /// 401: FoxReach did not accept the API key (wrong, revoked, or not an
    /// `otr_…` key).
    Unauthorized,
    /// 404: there is no webhook with this id (for this key's account).
    NotFound {
        /// FoxReach's message, if it gave one.
        message: Option<String>,
    },
    /// 422: FoxReach refused the request's content, usually an event type
    /// it does not offer.
    Rejected {
        /// The requested event type names FoxReach's answer names as
        /// refused: the request's names that appear as a whole JSON string
        /// in the answer (such as FastAPI's `"input"` of a validation
        /// error). Empty when the answer names none; then see `message`.
        unknown_events: Vec<String>,
        /// FoxReach's message (its `detail`, `message` or `error`), if any.
        message: Option<String>,
    },
    /// 429, still after the client's retries: FoxReach allows 100 requests
    /// a minute.
    RateLimited {
        /// How long FoxReach asked to wait (`Retry-After`, in seconds), if
        /// it said.
        retry_after: Option<Duration>,
        /// How many requests were made, retries included.
        attempts: u32,
    },
    /// Any other answer that is not a 2xx (a 5xx, a redirect, which the
    /// client does not follow so as not to send the key elsewhere).
    Status {
        /// The HTTP status code.
        status: u16,
        /// FoxReach's message, if it gave one.
        message: Option<String>,
    },
    /// No answer within the client's timeout.
    Timeout {
        /// The timeout.
        after: Duration,
    },
    /// FoxReach could not be reached: DNS, connection, TLS, or the
    /// connection dropped mid-answer.
    Network(NetworkError),
    /// A 2xx answer whose body is not what the API reference describes.
    Body {
        /// The HTTP status code.
        status: u16,
        /// What was wrong, with the JSON path of the field at fault.
        reason: String,
    },
    /// `POST /webhooks` created the webhook but its answer had no secret:
    /// the webhook exists and its secret is lost. Delete it
    /// (`DELETE /webhooks/{id}`) and create another.
    MissingSecret {
        /// The id of the webhook that was created.
        webhook_id: String,
    },
    /// The client was configured wrongly (a base URL that is not an
    /// `https://` URL, an API key that cannot be a header value), or was
    /// given a webhook id that names none (empty, `.` or `..`).
    Config(String),
}

impl ApiError {
    /// The HTTP status FoxReach answered, for the variants that come from
    /// one.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized => Some(401),
            Self::NotFound { .. } => Some(404),
            Self::Rejected { .. } => Some(422),
            Self::RateLimited { .. } => Some(429),
            Self::Status { status, .. } | Self::Body { status, .. } => Some(*status),
            Self::Timeout { .. } | Self::Network(_) | Self::MissingSecret { .. } | Self::Config(_) => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quote = |f: &mut fmt::Formatter<'_>, message: &Option<String>| match message {
            Some(message) => write!(f, ": {message}"),
            None => Ok(()),
        };
        match self {
            Self::Unauthorized => f.write_str(
                "FoxReach refused the API key (401): check the key (keys start with otr_ and can be revoked)",
            ),
            Self::NotFound { message } => {
                f.write_str("FoxReach has no such webhook (404)")?;
                quote(f, message)
            }
            Self::Rejected { unknown_events, message } if !unknown_events.is_empty() => {
                write!(f, "FoxReach refused the request (422): unknown event types: {}", unknown_events.join(", "))?;
                quote(f, message)
            }
            Self::Rejected { message, .. } => {
                f.write_str("FoxReach refused the request (422)")?;
                quote(f, message)
            }
            Self::RateLimited { retry_after: Some(delay), attempts } => write!(
                f,
                "FoxReach is rate limiting this key (429, 100 requests a minute) after {attempts} attempt(s): try again \
                 in {} s",
                delay.as_secs().max(1)
            ),
            Self::RateLimited { retry_after: None, attempts } => write!(
                f,
                "FoxReach is rate limiting this key (429, 100 requests a minute) after {attempts} attempt(s): try again \
                 in a minute"
            ),
            Self::Status { status, message } => {
                write!(f, "FoxReach answered {status}")?;
                quote(f, message)
            }
            Self::Timeout { after } => write!(f, "FoxReach did not answer within {} ms", after.as_millis()),
            Self::Network(error) => write!(f, "cannot reach FoxReach: {error}"),
            Self::Body { status, reason } => {
                write!(f, "FoxReach's answer ({status}) is not what its API reference describes: {reason}")
            }
            Self::MissingSecret { webhook_id } => write!(
                f,
                "FoxReach created webhook {webhook_id} but its answer had no secret, which cannot be asked for again: \
                 delete it and create another"
            ),
            Self::Config(reason) => write!(f, "the API client is misconfigured: {reason}"),
        }
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Network(error) => Some(error),
            _ => None,
        }
    }
}

/// A failure to reach FoxReach, from the HTTP client (its type stays out
/// of this crate's API). Its messages name the URL, which holds no key.
pub struct NetworkError(pub(super) reqwest::Error);

impl NetworkError {
    /// Whether the connection itself could not be made (DNS, refused, TLS),
    /// as opposed to one that dropped.
    #[must_use]
    pub fn is_connect(&self) -> bool {
        self.0.is_connect()
    }
}

impl fmt::Debug for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NetworkError").field(&self.0).finish()
    }
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // reqwest's own text ("error sending request for url (...)") says
        // little; the innermost cause says what happened.
        let (mut inner, mut last) = (std::error::Error::source(&self.0), None);
        while let Some(cause) = inner {
            last = Some(cause);
            inner = cause.source();
        }
        match last {
            Some(cause) => write!(f, "{} ({cause})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

impl std::error::Error for NetworkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}
