use ::axum::RequestExt;
use ::axum::body::Body;
use ::axum::extract::{FromRef, FromRequest, Request};
use ::http::request::Parts;

use crate::Verifier;
use crate::http::intake::{collect, verify};
use crate::http::{DEFAULT_BODY_LIMIT, VerifiedBody, WebhookRejection};

/// Extracts the verified raw body: the one the layer stored, or the request's
/// own, read and verified with the state's [`Verifier`].
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S> FromRequest<S> for VerifiedBody
where
    S: Send + Sync,
    Verifier: FromRef<S>,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.with_limited_body().into_parts();
        match parts.extensions.remove::<VerifiedBody>() {
            Some(verified) => Ok(verified),
            None => read(&parts, body, &Verifier::from_ref(state)).await,
        }
    }
}

/// Reads `body` as axum's `Json` does (so `DefaultBodyLimit` applies, capped
/// at [`DEFAULT_BODY_LIMIT`]) and verifies it with `verifier`.
pub(crate) async fn read(parts: &Parts, body: Body, verifier: &Verifier) -> Result<VerifiedBody, WebhookRejection> {
    let bytes = collect(&parts.headers, body, DEFAULT_BODY_LIMIT).await?;
    verify(verifier, &parts.headers, bytes)
}
