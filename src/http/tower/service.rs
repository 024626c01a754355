use std::mem;
use std::task::{Context, Poll};

use ::http::{Request, Response};
use http_body::Body;
use tower_layer::Layer;
use tower_service::Service;

use super::future::ResponseFuture;
use super::{Config, RequestBody, ResponseBody, VerifySignatureLayer};
use crate::Verifier;
use crate::http::intake::{check_content_length, limited};
use crate::http::rejection::BoxError;

/// A service that verifies FoxReach webhook requests before passing them to
/// the inner service; built by [`VerifySignatureLayer`].
#[derive(Debug, Clone)]
pub struct VerifySignature<S> {
    inner: S,
    config: Config,
}

impl<S> VerifySignature<S> {
    /// Wraps `inner` with the defaults of [`VerifySignatureLayer::new`].
    pub fn new(inner: S, verifier: Verifier) -> Self {
        VerifySignatureLayer::new(verifier).layer(inner)
    }

    pub(super) fn from_config(inner: S, config: Config) -> Self {
        Self { inner, config }
    }

    /// A layer that wraps services with this middleware.
    #[must_use]
    pub fn layer(verifier: Verifier) -> VerifySignatureLayer {
        VerifySignatureLayer::new(verifier)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes the middleware, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for VerifySignature<S>
where
    S: Service<Request<RequestBody>, Response = Response<ResBody>> + Clone,
    ReqBody: Body,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<ReqBody, S>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (parts, body) = request.into_parts();
        if let Err(rejection) = check_content_length(&parts.headers, self.config.body_limit) {
            return ResponseFuture::rejected(rejection);
        }
        // The inner service is called only once the body is in; take the one
        // that `poll_ready` readied, and leave a clone in its place.
        let clone = self.inner.clone();
        let inner = mem::replace(&mut self.inner, clone);
        ResponseFuture::collecting(limited(body, self.config.body_limit), parts, inner, self.config.clone())
    }
}
