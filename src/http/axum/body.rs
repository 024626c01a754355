use ::axum::RequestExt;
use ::axum::extract::{FromRef, FromRequest, Request};

use crate::Verifier;
use crate::http::intake::{collect, verify};
use crate::http::{DEFAULT_BODY_LIMIT, VerifiedBody, WebhookRejection};

/// Extracts the verified raw body: the one the layer stored, or the request's
/// own, read and verified with the state's [`Verifier`].
impl<S> FromRequest<S> for VerifiedBody
where
    S: Send + Sync,
    Verifier: FromRef<S>,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(verified) = request.extensions().get::<VerifiedBody>() {
            return Ok(verified.clone());
        }
        let verifier = Verifier::from_ref(state);
        let (parts, body) = request.with_limited_body().into_parts();
        let verified = match collect(&parts.headers, body, DEFAULT_BODY_LIMIT).await {
            Ok(bytes) => verify(&verifier, &parts.headers, bytes),
            Err(rejection) => Err(rejection),
        };
        verified.inspect_err(WebhookRejection::log)
    }
}
