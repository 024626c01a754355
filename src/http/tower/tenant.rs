use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ::http::request::Parts;
use ::http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use crate::delivery::Receive;
use crate::http::rejection::BoxError;
use crate::http::tenant::{Limits, receive};
use crate::http::{DEFAULT_BODY_LIMIT, FullBody};
use crate::tenant::{RESOLVE_TIMEOUT, SecretResolver};

/// Where a [`TenantReceiver`] reads the tenant's name in a request.
pub type TenantFrom = fn(&Parts) -> Option<&str>;

/// A FoxReach receiver of several webhooks as a tower service: the tenant
/// from the request's path, its verifier from `resolver`, the signature
/// verified with it, the delivery handed, for that tenant, to `receiver`
/// (a [`Dispatcher`](crate::delivery::Dispatcher) or an
/// inbox of `foxreach-inbox`).
///
/// The tenant is the path's last segment (`/webhooks/foxreach/acme` is
/// tenant `acme`) unless [`tenant_from`](TenantReceiver::tenant_from) says
/// otherwise. Answers as [`receiver`](super::receiver) does, and also `404`
/// for a tenant the resolver does not know (or a name that is not a
/// [`Tenant`](crate::tenant::Tenant), percent-escapes included) and `503`
/// with `Retry-After` when the resolver fails or takes longer than
/// [`resolve_timeout`](TenantReceiver::resolve_timeout); see
/// [`crate::tenant`]. It answers every request it gets,
/// whatever its method, so route only FoxReach's `POST`s to it.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use foxreach_webhooks::delivery::{Dispatcher, Handler};
/// use foxreach_webhooks::http::tower::tenant_receiver;
/// use foxreach_webhooks::tenant::{CachedResolver, Tenant};
/// use foxreach_webhooks::Verifier;
///
/// struct App;
/// impl Handler for App {}
///
/// let secrets = HashMap::from([("acme".parse::<Tenant>()?, Verifier::new("acme-secret")?)]);
/// let service = tenant_receiver(CachedResolver::new(secrets, 10_000), Dispatcher::new(App))
///     // `/hooks/{tenant}/foxreach` instead of the last segment:
///     .tenant_from(|parts| parts.uri.path().split('/').nth(2));
/// # let _ = service;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub fn tenant_receiver<Res: SecretResolver, R: Receive>(resolver: Res, receiver: R) -> TenantReceiver<Res, R> {
    TenantReceiver {
        shared: Arc::new(Shared { resolver, receiver }),
        tenant_from: last_segment,
        limits: Limits { body: DEFAULT_BODY_LIMIT, resolve: RESOLVE_TIMEOUT },
    }
}

/// The service [`tenant_receiver`] builds.
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub struct TenantReceiver<Res, R> {
    shared: Arc<Shared<Res, R>>,
    tenant_from: TenantFrom,
    limits: Limits,
}

struct Shared<Res, R> {
    resolver: Res,
    receiver: R,
}

impl<Res, R> TenantReceiver<Res, R> {
    /// Reads the tenant's name with `tenant_from` instead of taking the
    /// path's last segment. `None`, or a name that is not a valid
    /// [`Tenant`](crate::tenant::Tenant), is answered `404`.
    #[must_use]
    pub fn tenant_from(mut self, tenant_from: TenantFrom) -> Self {
        self.tenant_from = tenant_from;
        self
    }

    /// Refuses bodies over `limit` bytes with `413` (by `Content-Length`
    /// before anything else, or as soon as a chunked body crosses it);
    /// [`DEFAULT_BODY_LIMIT`] (1 MiB) by default.
    #[must_use]
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.limits.body = limit;
        self
    }

    /// Answers `503` (FoxReach retries) when the resolver has not answered
    /// within `timeout`; [`RESOLVE_TIMEOUT`] (1 s) by default. The lookup
    /// comes before the dispatcher's answer budget: keep the two within the
    /// 5 seconds FoxReach waits.
    #[must_use]
    pub fn resolve_timeout(mut self, timeout: Duration) -> Self {
        self.limits.resolve = timeout;
        self
    }

    /// The resolver.
    pub fn resolver(&self) -> &Res {
        &self.shared.resolver
    }

    /// The dispatcher or inbox.
    pub fn receiver(&self) -> &R {
        &self.shared.receiver
    }
}

/// The path's last non-empty segment.
fn last_segment(parts: &Parts) -> Option<&str> {
    parts.uri.path().split('/').rfind(|segment| !segment.is_empty())
}

impl<Res, R> Clone for TenantReceiver<Res, R> {
    fn clone(&self) -> Self {
        Self { shared: Arc::clone(&self.shared), tenant_from: self.tenant_from, limits: self.limits }
    }
}

impl<Res, R> fmt::Debug for TenantReceiver<Res, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantReceiver").field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl<Res, R, B> Service<Request<B>> for TenantReceiver<Res, R>
where
    Res: SecretResolver,
    R: Receive,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<FullBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (parts, body) = request.into_parts();
        let (shared, tenant_from, limits) = (Arc::clone(&self.shared), self.tenant_from, self.limits);
        Box::pin(async move {
            let tenant = tenant_from(&parts);
            Ok(receive(&shared.resolver, &shared.receiver, tenant, &parts, body, limits).await)
        })
    }
}
