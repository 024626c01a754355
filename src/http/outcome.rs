//! The HTTP answer to each delivery outcome: the one place it is decided.

use ::http::{HeaderValue, Response, StatusCode, header};
use bytes::Bytes;
use http_body_util::Full;

use super::plain::plain_text;
use crate::delivery::Outcome;

/// How long FoxReach is asked to wait before retrying a delivery refused for
/// a passing reason; its own schedule (1, 5, 30 minutes) is longer anyway.
const RETRY_AFTER_SECONDS: &str = "60";

impl Outcome {
    /// The HTTP status to answer with (features `delivery` and `http`):
    ///
    /// | outcome | status | FoxReach retries |
    /// | --- | --- | --- |
    /// | processed | `204 No Content` | no |
    /// | duplicate of a processed delivery | `200 OK` | no |
    /// | handler failed permanently (logged) | `200 OK` | no: it cannot succeed |
    /// | handler failed, retryable | `500 Internal Server Error` | yes |
    /// | duplicate of a delivery in progress | `409 Conflict` | yes, in case the first fails |
    /// | duplicate store unavailable | `503 Service Unavailable` | yes |
    /// | outside the replay window | `403 Forbidden` | yes, and refused again |
    ///
    /// The three 2xx answers differ so that FoxReach's delivery log tells
    /// them apart. A stale delivery gets `403`, not `401`: its signature is
    /// right, and nothing the sender changes about its credentials would help.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Processed => StatusCode::NO_CONTENT,
            Self::Duplicate => StatusCode::OK,
            Self::Failed(error) if !error.is_retryable() => StatusCode::OK,
            Self::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::InProgress => StatusCode::CONFLICT,
            Self::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Stale(_) => StatusCode::FORBIDDEN,
        }
    }

    /// The response: [`status`](Self::status), the outcome's sentence as
    /// plain text (nothing for `204`), and `Retry-After` where waiting helps.
    /// With feature `axum`, `Outcome` is also `IntoResponse`.
    #[must_use]
    pub fn into_http_response(self) -> Response<Full<Bytes>> {
        let retry_later = self.retry_later();
        let mut response = match self.body() {
            Some(text) => plain_text(self.status(), text),
            None => {
                let mut response = Response::new(Full::default());
                *response.status_mut() = self.status();
                response
            }
        };
        if retry_later {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        response
    }

    /// The response body: the outcome's sentence, or nothing for `204`.
    fn body(&self) -> Option<Bytes> {
        match self {
            Self::Processed => None,
            _ => Some(match self.fixed_text() {
                Some(text) => Bytes::from_static(text.as_bytes()),
                None => Bytes::from(self.to_string()),
            }),
        }
    }

    /// Whether FoxReach is asked to wait before retrying: the refusal is for
    /// a passing reason.
    fn retry_later(&self) -> bool {
        matches!(self, Self::InProgress | Self::StoreUnavailable(_))
    }
}
