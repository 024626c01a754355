use std::sync::Arc;

use ::axum::RequestExt;
use ::axum::Router;
use ::axum::extract::rejection::RawPathParamsRejection;
use ::axum::extract::{RawPathParams, Request, State};
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::post;

use crate::delivery::Receive;
use crate::http::DEFAULT_BODY_LIMIT;
use crate::http::tenant::{Limits, receive};
use crate::tenant::{RESOLVE_TIMEOUT, SecretResolver};

/// A FoxReach receiver of several webhooks as an axum [`Router`]: `POST
/// path` takes the tenant from the path parameter `{tenant}`, finds its
/// verifier with `resolver`, verifies the signature with it, and hands the
/// delivery, for that tenant, to `receiver` (a
/// [`Dispatcher`](crate::delivery::Dispatcher) or an
/// inbox of `foxreach-inbox`).
///
/// Answers as [`router`](super::router) does, and also `404` for a tenant
/// the resolver does not know (or a name that is not a
/// [`Tenant`](crate::tenant::Tenant)), and `503` with `Retry-After` when the
/// resolver fails or takes longer than [`RESOLVE_TIMEOUT`] (1 s); see
/// [`crate::tenant`] for the whole sequence. A path with a percent-escape
/// names no tenant (`404`), as with the tower receiver, so that two
/// spellings never name one tenant. Bodies are capped at
/// [`DEFAULT_BODY_LIMIT`] (1 MiB), and axum's `DefaultBodyLimit` lowers
/// that if set. For another lookup timeout or body limit, mount
/// [`tenant_receiver`](crate::http::tower::tenant_receiver) with
/// `Router::route_service`.
///
/// # Panics
///
/// If `path` has no `{tenant}` parameter, or is not a path axum accepts.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use foxreach_webhooks::delivery::{Delivery, Dispatcher, Handled, Handler};
/// use foxreach_webhooks::event::ReplyReceived;
/// use foxreach_webhooks::http::axum::tenant_router;
/// use foxreach_webhooks::tenant::{CachedResolver, Tenant};
/// use foxreach_webhooks::Verifier;
///
/// struct App;
///
/// impl Handler for App {
///     async fn reply_received(&self, reply: ReplyReceived, delivery: Delivery<'_>) -> Handled {
///         let tenant = delivery.tenant.map_or("?", Tenant::as_str);
///         println!("{tenant}: lead {} replied", reply.lead_id);
///         Ok(())
///     }
/// }
///
/// let secrets = HashMap::from([
///     ("acme".parse::<Tenant>()?, Verifier::new("acme-secret")?),
///     ("globex".parse::<Tenant>()?, Verifier::from_secrets(["globex-old", "globex-new"])?),
/// ]);
/// let app: axum::Router =
///     tenant_router("/webhooks/foxreach/{tenant}", CachedResolver::new(secrets, 10_000), Dispatcher::new(App));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub fn tenant_router<Res: SecretResolver, R: Receive>(path: &str, resolver: Res, receiver: R) -> Router {
    assert!(path.contains("{tenant}"), "the path of a tenant router names the tenant with {{tenant}}: {path:?}");
    let state = Arc::new(TenantState { resolver, receiver });
    Router::new().route(path, post(receive_for_tenant::<Res, R>)).with_state(state)
}

/// The router's state, behind one `Arc`: one reference count per request.
struct TenantState<Res, R> {
    resolver: Res,
    receiver: R,
}

async fn receive_for_tenant<Res: SecretResolver, R: Receive>(
    State(state): State<Arc<TenantState<Res, R>>>,
    params: Result<RawPathParams, RawPathParamsRejection>,
    request: Request,
) -> Response {
    // axum decodes percent-escapes in parameters; a tenant name has none.
    let params = params.ok().filter(|_| !request.uri().path().contains('%'));
    let tenant =
        params.as_ref().and_then(|params| params.iter().find_map(|(name, value)| (name == "tenant").then_some(value)));
    let (parts, body) = request.with_limited_body().into_parts();
    let limits = Limits { body: DEFAULT_BODY_LIMIT, resolve: RESOLVE_TIMEOUT };
    receive(&state.resolver, &state.receiver, tenant, &parts, body, limits).await.into_response()
}
