use ::axum::response::{IntoResponse, Response};

use crate::http::WebhookRejection;

/// Answers with the rejection's status and its reason as plain text.
impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        (self.status(), self.body_text()).into_response()
    }
}
