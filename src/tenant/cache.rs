//! A resolver behind a bounded cache, so that a delivery costs no lookup.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

use super::{SecretResolver, Tenant};
use crate::Verifier;

/// How long [`CachedResolver`] remembers that a tenant is unknown, unless
/// told otherwise: 30 seconds, under FoxReach's first retry (1 minute), so
/// that a delivery for a tenant created just after it was refused gets
/// through on that retry.
pub const DEFAULT_UNKNOWN_TTL: Duration = Duration::from_secs(30);

/// A [`SecretResolver`] with a bounded cache in front (on
/// [quick_cache](https://docs.rs/quick_cache)): each tenant is looked up
/// once, then served from memory until it is evicted (the cache holds at
/// most `capacity` tenants; quick_cache's scan-resistant S3-FIFO policy
/// picks which leave, sparing those used more than once),
/// [forgotten](Self::forget), or older than its
/// [time to live](Self::time_to_live).
///
/// - Concurrent deliveries for a tenant that is not cached wait for one
///   lookup, not one each. If it fails, the next waiter looks it up in
///   turn (the receivers cut each request's lookup at
///   [`RESOLVE_TIMEOUT`](super::RESOLVE_TIMEOUT), so none waits longer).
/// - A found tenant whose [time to live](Self::time_to_live) ended is
///   looked up again (by each delivery that finds it expired, until one
///   lookup succeeds); while that fails, the verifier found before goes on
///   being used, with a warning, so that a vault that is down does not stop
///   a tenant whose secret was known.
/// - An unknown tenant is remembered too, for [`DEFAULT_UNKNOWN_TTL`] (see
///   [`unknown_ttl`](Self::unknown_ttl)), so that requests for made-up
///   names do not each reach the database.
/// - A failed lookup is not remembered: the next delivery tries again.
/// - Anyone can send requests to made-up tenant names, and each new name
///   costs one lookup of the inner resolver (unauthenticated: nothing is
///   verified before the secret is found). quick_cache's eviction favours
///   entries used more than once, so such names do not push the real
///   tenants out, but a resolver that is costly per call deserves a rate
///   limit in front of the receiver.
///
/// When a tenant's secret changes (a rotation begins or ends), call
/// [`forget`](Self::forget) after the new secret is stored; a lookup of any
/// tenant that was already running when `forget` was called is not cached,
/// so it cannot bring the old secret back. The bound is approximate:
/// quick_cache splits it between shards, rounding each share up.
///
/// # Example
///
/// ```
/// use std::collections::HashMap;
/// use foxreach_webhooks::tenant::{CachedResolver, Tenant};
/// use foxreach_webhooks::Verifier;
///
/// let acme: Tenant = "acme".parse()?;
/// let secrets = HashMap::from([(acme.clone(), Verifier::new("acme-secret")?)]);
/// let resolver = CachedResolver::new(secrets, 10_000);
/// // Later, once acme's new secret is stored:
/// resolver.forget(&acme);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CachedResolver<R> {
    inner: R,
    cache: Cache<Tenant, Cached>,
    capacity: usize,
    time_to_live: Option<Duration>,
    unknown_ttl: Duration,
    /// Counts calls to `forget`: a lookup that saw it change does not cache.
    forgets: AtomicU64,
}

/// A lookup's answer, and until when it may be used.
#[derive(Clone)]
struct Cached {
    verifier: Option<Verifier>,
    until: Option<Instant>,
}

impl Cached {
    fn is_fresh(&self, now: Instant) -> bool {
        self.until.is_none_or(|until| now < until)
    }
}

impl<R> CachedResolver<R> {
    /// `inner` behind a cache of at most `capacity` tenants (at least 1),
    /// remembering found verifiers until evicted and unknown tenants for
    /// [`DEFAULT_UNKNOWN_TTL`].
    #[must_use]
    pub fn new(inner: R, capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            inner,
            cache: Cache::new(capacity),
            capacity,
            time_to_live: None,
            unknown_ttl: DEFAULT_UNKNOWN_TTL,
            forgets: AtomicU64::new(0),
        }
    }

    /// Looks a found tenant up again once its cached verifier is `ttl` old,
    /// so that a secret changed without [`forget`](Self::forget) (by another
    /// process, say) is picked up within `ttl`. Off by default.
    #[must_use]
    pub fn time_to_live(mut self, ttl: Duration) -> Self {
        self.time_to_live = Some(ttl);
        self
    }

    /// How long an unknown tenant is remembered as unknown
    /// ([`DEFAULT_UNKNOWN_TTL`] by default; zero remembers nothing).
    #[must_use]
    pub fn unknown_ttl(mut self, ttl: Duration) -> Self {
        self.unknown_ttl = ttl;
        self
    }

    /// Forgets what is cached for `tenant`: its next delivery is looked up
    /// again. Call it when the tenant's secret changes, after storing the
    /// new one.
    pub fn forget(&self, tenant: &Tenant) {
        self.forgets.fetch_add(1, Ordering::AcqRel);
        self.cache.remove(tenant);
    }

    /// Forgets every cached tenant.
    pub fn forget_all(&self) {
        self.forgets.fetch_add(1, Ordering::AcqRel);
        self.cache.clear();
    }

    /// How many tenants are cached now, found or unknown.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether no tenant is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// The most tenants the cache holds.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The resolver behind the cache.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Until when an answer may be used: `None` for ever (also for a time
    /// to live too long for the clock).
    fn until(&self, found: bool, now: Instant) -> Option<Instant> {
        let ttl = if found { self.time_to_live } else { Some(self.unknown_ttl) };
        ttl.and_then(|ttl| now.checked_add(ttl))
    }

    /// What to keep of a lookup's answer, unless it is stale already
    /// (an unknown TTL of zero) or a `forget` came since `forgets` was read.
    fn to_keep(&self, verifier: &Option<Verifier>, forgets: u64) -> Option<Cached> {
        let now = Instant::now();
        let until = self.until(verifier.is_some(), now);
        let fresh = until.is_none_or(|until| until > now);
        (fresh && self.forgets.load(Ordering::Acquire) == forgets).then(|| Cached { verifier: verifier.clone(), until })
    }
}

impl<R: SecretResolver> SecretResolver for CachedResolver<R> {
    type Error = R::Error;

    async fn resolve(&self, tenant: &Tenant) -> Result<Option<Verifier>, R::Error> {
        let forgets = self.forgets.load(Ordering::Acquire);
        match self.cache.get_value_or_guard_async(tenant).await {
            Ok(cached) if cached.is_fresh(Instant::now()) => Ok(cached.verifier),
            Ok(stale) => self.refresh(tenant, stale, forgets).await,
            // A miss: this delivery looks it up while the others with the
            // same tenant wait. If the lookup fails (or its answer is not
            // kept), the guard is dropped and the next waiter looks it up.
            Err(guard) => {
                let verifier = self.inner.resolve(tenant).await?;
                if let Some(kept) = self.to_keep(&verifier, forgets) {
                    let _ = guard.insert(kept);
                }
                Ok(verifier)
            }
        }
    }
}

impl<R: SecretResolver> CachedResolver<R> {
    /// Looks an expired answer up again, keeping the new one. While the
    /// lookup fails, a verifier found before goes on being used (logged):
    /// a vault that is down does not stop a tenant whose secret was known.
    async fn refresh(&self, tenant: &Tenant, stale: Cached, forgets: u64) -> Result<Option<Verifier>, R::Error> {
        match self.inner.resolve(tenant).await {
            Ok(verifier) => {
                match self.to_keep(&verifier, forgets) {
                    Some(kept) => self.cache.insert(tenant.clone(), kept),
                    None => drop(self.cache.remove_if(tenant, |cached| !cached.is_fresh(Instant::now()))),
                }
                Ok(verifier)
            }
            Err(error) => match stale.verifier {
                Some(verifier) => {
                    tracing::warn!(
                        target: "foxreach_webhooks::tenant",
                        %tenant,
                        %error,
                        "the secret resolver failed; the verifier found before goes on being used",
                    );
                    Ok(Some(verifier))
                }
                None => Err(error),
            },
        }
    }
}

impl<R: fmt::Debug> fmt::Debug for CachedResolver<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedResolver")
            .field("inner", &self.inner)
            .field("cached", &self.cache.len())
            .field("capacity", &self.capacity)
            .field("time_to_live", &self.time_to_live)
            .field("unknown_ttl", &self.unknown_ttl)
            .finish_non_exhaustive()
    }
}
