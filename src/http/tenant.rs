//! The pipeline of a receiver of several webhooks, shared by the axum
//! router and the tower receiver: the tenant from the URL, its verifier
//! from the resolver, then the same intake and dispatch as one webhook's.

use std::time::Duration;

use ::http::Response;
use ::http::request::Parts;
use http_body::Body;

use super::dispatch::dispatch;
use super::headers::check_signature_shape;
use super::intake::{check_content_length, limited, verify};
use super::rejection::BoxError;
use super::{FullBody, VerifiedBody, WebhookRejection};
use crate::delivery::Receive;
use crate::tenant::{SecretResolver, Tenant};

/// How a receiver of several webhooks takes a request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The largest body, in bytes.
    pub(crate) body: usize,
    /// The longest wait for the resolver.
    pub(crate) resolve: Duration,
}

/// Answers one request to `tenant` (as the URL names it, if it does).
pub(crate) async fn receive<Res, R, B>(
    resolver: &Res,
    receiver: &R,
    tenant: Option<&str>,
    parts: &Parts,
    body: B,
    limits: Limits,
) -> Response<FullBody>
where
    Res: SecretResolver,
    R: Receive,
    B: Body,
    B::Error: Into<BoxError>,
{
    match verify_for(resolver, tenant, parts, body, limits).await {
        Ok((tenant, verified)) => dispatch(receiver, verified, None, Some(tenant)).await,
        Err(rejection) => rejection.into_http_response(),
    }
}

/// The tenant and its verified body. What needs no secret is checked
/// first (the name, the length, the signature's shape), so that a request
/// that cannot verify costs no lookup; the body is read after the lookup,
/// so that a request for a tenant that does not exist is not read at all.
async fn verify_for<Res, B>(
    resolver: &Res,
    tenant: Option<&str>,
    parts: &Parts,
    body: B,
    limits: Limits,
) -> Result<(Tenant, VerifiedBody), WebhookRejection>
where
    Res: SecretResolver,
    B: Body,
    B::Error: Into<BoxError>,
{
    let tenant = tenant.and_then(|name| Tenant::new(name).ok()).ok_or(WebhookRejection::UnknownTenant)?;
    check_content_length(&parts.headers, limits.body)?;
    check_signature_shape(&parts.headers)?;
    let verifier = match tokio::time::timeout(limits.resolve, resolver.resolve(&tenant)).await {
        Ok(Ok(Some(verifier))) => verifier,
        Ok(Ok(None)) => return Err(WebhookRejection::UnknownTenant),
        Ok(Err(error)) => return Err(unavailable(&tenant, Box::new(error))),
        Err(_) => {
            let waited = format!("the secret resolver did not answer within {} ms", limits.resolve.as_millis());
            return Err(unavailable(&tenant, waited.into()));
        }
    };
    let bytes = match limited(body, limits.body).await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return Err(WebhookRejection::from_body_error(error, Some(limits.body))),
    };
    Ok((tenant, verify(&verifier, &parts.headers, bytes)?))
}

/// The resolver failed: logged here (the tenant's name is safe to log, see
/// [`Tenant`]), answered `503` without the error.
fn unavailable(tenant: &Tenant, error: BoxError) -> WebhookRejection {
    tracing::error!(
        target: "foxreach_webhooks::tenant",
        %tenant,
        %error,
        "the secret resolver failed; answered 503 so that FoxReach retries",
    );
    WebhookRejection::TenantUnavailable(error)
}
