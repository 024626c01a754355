use ::axum::RequestExt;
use ::axum::body::Body;
use ::axum::extract::{FromRef, FromRequest, Request};
use ::http::{Extensions, HeaderMap};

use crate::Verifier;
use crate::http::intake::{collect, verify_signed};
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
        let (parts, body) = request.with_limited_body().into_parts();
        read(&parts.headers, &parts.extensions, body, &Verifier::from_ref(state)).await.map(|(verified, _)| verified)
    }
}

/// The verified body of a request: the one the layer stored in
/// `extensions`, or `body`, read and verified with `verifier`. In the second
/// case, also the signature header's value, which the router hands on to the
/// dispatcher without looking it up again.
pub(crate) async fn read<'h>(
    headers: &'h HeaderMap,
    extensions: &Extensions,
    body: Body,
    verifier: &Verifier,
) -> Result<(VerifiedBody, Option<&'h str>), WebhookRejection> {
    if let Some(verified) = extensions.get::<VerifiedBody>() {
        return Ok((verified.clone(), None));
    }
    let verified = match collect(headers, body, DEFAULT_BODY_LIMIT).await {
        Ok(bytes) => verify_signed(verifier, headers, bytes),
        Err(rejection) => Err(rejection),
    };
    verified.map(|(body, signature)| (body, Some(signature))).inspect_err(WebhookRejection::log)
}
