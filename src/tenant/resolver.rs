//! What the application implements to find a tenant's verifier.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::fmt;
use std::future::{self, Future};
use std::hash::BuildHasher;
use std::sync::Arc;

use super::Tenant;
use crate::Verifier;

/// Finds the [`Verifier`] of a tenant: the secret of the FoxReach webhook
/// whose URL names it, or both secrets while it is being rotated
/// ([`Verifier::from_secrets`], the old one first).
///
/// Implement it over the application's database or vault; wrap it in a
/// [`CachedResolver`](super::CachedResolver) so that a delivery does not
/// cost a lookup. A `HashMap` or `BTreeMap` from [`Tenant`] to [`Verifier`]
/// is a resolver of a fixed set, and [`from_fn`] makes one of a closure.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use foxreach_webhooks::tenant::{SecretResolver, Tenant};
/// use foxreach_webhooks::Verifier;
///
/// struct Vault(HashMap<String, String>); // a database pool, say
///
/// #[derive(Debug)]
/// struct VaultDown;
/// impl std::fmt::Display for VaultDown {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("the vault did not answer")
///     }
/// }
/// impl std::error::Error for VaultDown {}
///
/// impl SecretResolver for Vault {
///     type Error = VaultDown;
///
///     async fn resolve(&self, tenant: &Tenant) -> Result<Option<Verifier>, VaultDown> {
///         let Some(secret) = self.0.get(tenant.as_str()) else { return Ok(None) };
///         // A stored secret that is empty is the vault's fault, not the sender's.
///         Verifier::new(secret).map(Some).map_err(|_| VaultDown)
///     }
/// }
/// ```
pub trait SecretResolver: Send + Sync + 'static {
    /// Why a lookup failed (the database is unreachable, say). It is
    /// logged, never answered: the request gets `503` and FoxReach retries.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The verifier of `tenant`, or `None` if the application has no such
    /// tenant (answered `404`).
    ///
    /// # Errors
    ///
    /// [`Self::Error`] when the lookup itself failed, so that the delivery
    /// is retried rather than refused for good.
    fn resolve(&self, tenant: &Tenant) -> impl Future<Output = Result<Option<Verifier>, Self::Error>> + Send;
}

impl<R: SecretResolver> SecretResolver for Arc<R> {
    type Error = R::Error;

    fn resolve(&self, tenant: &Tenant) -> impl Future<Output = Result<Option<Verifier>, Self::Error>> + Send {
        (**self).resolve(tenant)
    }
}

/// A fixed set of tenants, known at start-up.
impl<S: BuildHasher + Send + Sync + 'static> SecretResolver for HashMap<Tenant, Verifier, S> {
    type Error = Infallible;

    fn resolve(&self, tenant: &Tenant) -> impl Future<Output = Result<Option<Verifier>, Infallible>> + Send {
        future::ready(Ok(self.get(tenant).cloned()))
    }
}

/// A fixed set of tenants, known at start-up.
impl SecretResolver for BTreeMap<Tenant, Verifier> {
    type Error = Infallible;

    fn resolve(&self, tenant: &Tenant) -> impl Future<Output = Result<Option<Verifier>, Infallible>> + Send {
        future::ready(Ok(self.get(tenant).cloned()))
    }
}

/// A resolver made of an async closure that takes the tenant by value; see
/// [`from_fn`].
#[derive(Clone)]
pub struct FnResolver<F> {
    resolve: F,
}

/// A resolver of a closure `Fn(Tenant) -> impl Future<Output =
/// Result<Option<Verifier>, E>>`.
///
/// ```
/// use foxreach_webhooks::tenant::{from_fn, Tenant};
/// use foxreach_webhooks::{SecretError, Verifier};
///
/// // Secrets from the environment: FOXREACH_SECRET_ACME for tenant `acme`.
/// let resolver = from_fn(|tenant: Tenant| async move {
///     let name = format!("FOXREACH_SECRET_{}", tenant.as_str().to_uppercase().replace(['-', '.'], "_"));
///     match std::env::var(name) {
///         Ok(secret) => Verifier::new(secret).map(Some),
///         Err(_) => Ok::<_, SecretError>(None),
///     }
/// });
/// # let _ = resolver;
/// ```
pub fn from_fn<F, Fut, E>(resolve: F) -> FnResolver<F>
where
    F: Fn(Tenant) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Verifier>, E>> + Send,
    E: std::error::Error + Send + Sync + 'static,
{
    FnResolver { resolve }
}

impl<F, Fut, E> SecretResolver for FnResolver<F>
where
    F: Fn(Tenant) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Verifier>, E>> + Send,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = E;

    fn resolve(&self, tenant: &Tenant) -> impl Future<Output = Result<Option<Verifier>, E>> + Send {
        (self.resolve)(tenant.clone())
    }
}

impl<F> fmt::Debug for FnResolver<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnResolver").finish_non_exhaustive()
    }
}
