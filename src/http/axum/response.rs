use ::axum::response::{IntoResponse, Response};

use crate::http::WebhookRejection;

/// Answers as [`WebhookRejection::into_http_response`] does (and logs there).
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        self.into_http_response().into_response()
    }
}

/// Answers as [`Outcome::into_http_response`](crate::delivery::Outcome::into_http_response)
/// does: the status, the sentence as plain text, `Retry-After` where waiting helps.
#[cfg(feature = "delivery")]
#[cfg_attr(docsrs, doc(cfg(all(feature = "axum", feature = "delivery"))))]
impl IntoResponse for crate::delivery::Outcome {
    fn into_response(self) -> Response {
        self.into_http_response().into_response()
    }
}
