//! The HTTP answer to each delivery outcome: the one place it is decided.

use ::http::{HeaderValue, Response, StatusCode, header};

use super::FullBody;
use super::plain::plain_text;
use crate::delivery::Outcome;

/// How long FoxReach is asked to wait before retrying a delivery refused for
/// a passing reason; its own schedule (1, 5, 30 minutes) is longer anyway.
const RETRY_AFTER_SECONDS: &str = "60";

#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
impl Outcome {
    /// The HTTP status to answer with (features `delivery` and `http`):
    ///
    /// | outcome | status | FoxReach retries |
    /// | --- | --- | --- |
    /// | processed | `204 No Content` | no |
    /// | duplicate of a processed delivery | `200 OK` | no |
    /// | handler failed permanently (logged) | `200 OK` | no: it cannot succeed |
    /// | handler failed, retryable | `500 Internal Server Error` | yes |
    /// | handler panicked (logged) | `500 Internal Server Error` | yes |
    /// | handler still running after the answer budget | `503 Service Unavailable` | yes |
    /// | dispatcher shutting down | `503 Service Unavailable` | yes |
    /// | duplicate of a delivery in progress | `409 Conflict` | yes, in case the first fails |
    /// | duplicate store unavailable | `503 Service Unavailable` | yes |
    /// | kept in the inbox | `202 Accepted` | no |
    /// | inbox unavailable | `503 Service Unavailable` | yes |
    /// | inbox full (its bound on open entries) | `503 Service Unavailable` | yes |
    /// | outside the replay window | `403 Forbidden` | yes, and refused again |
    ///
    /// A duplicate of a delivery kept in an inbox, in any state, is also
    /// `200 OK`. The 2xx answers differ so that FoxReach's delivery log tells
    /// them apart. A stale delivery gets `403`, not `401`: its signature is
    /// right, and nothing the sender changes about its credentials would help.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Processed => StatusCode::NO_CONTENT,
            Self::Duplicate => StatusCode::OK,
            Self::Failed(error) if !error.is_retryable() => StatusCode::OK,
            Self::Failed(_) | Self::Panicked => StatusCode::INTERNAL_SERVER_ERROR,
            Self::StillRunning | Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Self::InProgress => StatusCode::CONFLICT,
            Self::StoreUnavailable(_) | Self::InboxUnavailable(_) | Self::InboxFull(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Kept => StatusCode::ACCEPTED,
            Self::Stale(_) => StatusCode::FORBIDDEN,
        }
    }

    /// The answer: [`status`](Self::status), the outcome's sentence as plain
    /// text (no body for `204`), and `Retry-After: 60` where waiting helps.
    /// With feature `axum`, `Outcome` is also `IntoResponse`, with the same
    /// answer.
    #[must_use]
    pub fn into_http_response(self) -> Response<FullBody> {
        let mut response = match self {
            Self::Processed => {
                let mut response = Response::new(FullBody::default());
                *response.status_mut() = self.status();
                response
            }
            _ => match self.fixed_text() {
                Some(text) => plain_text(self.status(), text),
                None => plain_text(self.status(), self.to_string()),
            },
        };
        if matches!(
            self,
            Self::InProgress
                | Self::StoreUnavailable(_)
                | Self::InboxUnavailable(_)
                | Self::InboxFull(_)
                | Self::StillRunning
                | Self::ShuttingDown
        ) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        response
    }
}
