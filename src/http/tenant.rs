//! The pipeline of a receiver of several webhooks, shared by the axum
//! router and the tower receiver: the tenant from the URL, its verifier
//! from the resolver, then the same intake and dispatch as one webhook's.

use ::http::Response;
use ::http::request::Parts;
use http_body::Body;

use super::dispatch::dispatch;
use super::intake::{check_content_length, limited, verify};
use super::rejection::BoxError;
use super::{FullBody, VerifiedBody, WebhookRejection};
use crate::delivery::Receive;
use crate::tenant::{SecretResolver, Tenant};

/// Answers one request to `tenant` (as the URL names it, if it does).
pub(crate) async fn receive<Res, R, B>(
    resolver: &Res,
    receiver: &R,
    tenant: Option<&str>,
    parts: &Parts,
    body: B,
    limit: usize,
) -> Response<FullBody>
where
    Res: SecretResolver,
    R: Receive,
    B: Body,
    B::Error: Into<BoxError>,
{
    match verify_for(resolver, tenant, parts, body, limit).await {
        Ok((tenant, verified)) => dispatch(receiver, verified, None, Some(tenant)).await,
        Err(rejection) => rejection.into_http_response(),
    }
}

/// The tenant and its verified body. The length is checked before the
/// lookup and the body read after it, so that a request for a tenant that
/// does not exist costs neither a lookup of a huge body nor its reading.
async fn verify_for<Res, B>(
    resolver: &Res,
    tenant: Option<&str>,
    parts: &Parts,
    body: B,
    limit: usize,
) -> Result<(Tenant, VerifiedBody), WebhookRejection>
where
    Res: SecretResolver,
    B: Body,
    B::Error: Into<BoxError>,
{
    let tenant = tenant.and_then(|name| Tenant::new(name).ok()).ok_or(WebhookRejection::UnknownTenant)?;
    check_content_length(&parts.headers, limit)?;
    let verifier = match resolver.resolve(&tenant).await {
        Ok(Some(verifier)) => verifier,
        Ok(None) => return Err(WebhookRejection::UnknownTenant),
        Err(error) => {
            tracing::error!(
                target: "foxreach_webhooks::tenant",
                %tenant,
                %error,
                "the secret resolver failed; answered 503 so that FoxReach retries",
            );
            return Err(WebhookRejection::TenantUnavailable(Box::new(error)));
        }
    };
    let bytes = match limited(body, limit).await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return Err(WebhookRejection::from_body_error(error, Some(limit))),
    };
    Ok((tenant, verify(&verifier, &parts.headers, bytes)?))
}
