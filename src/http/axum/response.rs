use ::axum::response::{IntoResponse, Response};

use crate::http::WebhookRejection;

/// Answers with the rejection's status and its reason as plain text.
impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        (self.status(), self.body_text()).into_response()
    }
}

/// Answers with the outcome's status, its sentence as plain text (nothing
/// for `204`) and `Retry-After` where waiting helps: the same response as
/// [`Outcome::into_http_response`](crate::delivery::Outcome::into_http_response).
#[cfg(feature = "delivery")]
impl IntoResponse for crate::delivery::Outcome {
    fn into_response(self) -> Response {
        match self {
            // The common answer, a bare 204: no body to box, nothing to allocate.
            Self::Processed => self.status().into_response(),
            _ => self.into_http_response().into_response(),
        }
    }
}
