//! Several FoxReach webhooks in one receiver (feature `delivery`): one per
//! customer workspace an application connects, each with its own secret,
//! usually on a URL that names the customer.
//!
//! - [`Tenant`]: the application's name for one webhook (or one customer),
//!   taken from the request's path: `/webhooks/foxreach/{tenant}` by default.
//! - [`SecretResolver`]: what the application implements to find a tenant's
//!   [`Verifier`](crate::Verifier) (one secret, or two during a rotation),
//!   async so that secrets can come from a database or a vault. A
//!   `HashMap<Tenant, Verifier>` is one, and [`from_fn`] makes one of a closure.
//! - [`CachedResolver`]: a resolver behind a bounded cache, with
//!   [`forget`](CachedResolver::forget) for a tenant whose secret changed.
//!
//! `http::axum::tenant_router` and `http::tower::tenant_receiver` take a
//! resolver instead of one verifier. For each request they:
//!
//! 1. take the tenant from the path; a name that is not a valid [`Tenant`]
//!    (a percent-escape included) is answered `404 Not Found`;
//! 2. refuse what cannot verify whatever the secret, before any lookup: a
//!    body over the limit (`413`), a signature missing or not 64 hex digits
//!    (`401`);
//! 3. resolve its verifier: an unknown tenant (`Ok(None)`) is answered
//!    `404 Not Found`, a resolver that fails or takes longer than
//!    [`RESOLVE_TIMEOUT`] `503 Service Unavailable` with
//!    `Retry-After` (the error is logged, never answered). FoxReach retries
//!    both after 1, 5 and 30 minutes, so a secret store that is down for
//!    less than that loses nothing, and a webhook pointing at a tenant the
//!    application deleted fails until FoxReach marks it unhealthy;
//! 4. verify the body with it (`401` if another tenant's secret signed it);
//! 5. hand the delivery to the dispatcher or inbox with the tenant: its
//!    [`DeliveryKey`](crate::delivery::DeliveryKey) is scoped to the tenant
//!    ([`DeliveryKey::for_tenant`](crate::delivery::DeliveryKey::for_tenant)),
//!    so one tenant's delivery never suppresses another's, and the handler
//!    reads the tenant in [`Delivery::tenant`](crate::delivery::Delivery::tenant).
//!
//! Metrics and spans carry no tenant unless the application opts in with
//! [`observe::label_tenants`](crate::observe::label_tenants): each tenant
//! is a series of its own.
//!
//! Keys are scoped by tenant, so moving a webhook from the single-webhook
//! receivers to these, or renaming its tenant, changes its deliveries'
//! keys: a copy processed before that deploy and retried by FoxReach after
//! it would run again. Deploy such a change when nothing is being retried
//! (FoxReach's retries end 36 minutes after a first failure), as the last
//! step of a secret rotation asks ([`DeliveryKey`](crate::delivery::DeliveryKey)).
//! A `404` for an unknown tenant beside a `401` for a known one tells
//! anyone which names exist: use opaque ids in URLs if names are private.

mod cache;
mod resolver;

use std::fmt;
use std::sync::Arc;

pub use cache::{CachedResolver, DEFAULT_UNKNOWN_TTL};
pub use resolver::{FnResolver, SecretResolver, from_fn};

/// The longest tenant name, in bytes.
pub const MAX_TENANT_LEN: usize = 128;

/// How long the receivers wait for a [`SecretResolver`] by default before
/// answering `503` (FoxReach retries): 1 second. The lookup comes before
/// the dispatcher's answer budget (4 seconds), so that the two stay within
/// the 5 seconds FoxReach waits for an answer.
pub const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The application's name for one of its FoxReach webhooks: 1 to
/// [`MAX_TENANT_LEN`] ASCII letters, digits, `-`, `_` or `.`, starting with a
/// letter or a digit, as it appears
/// in the webhook's URL (`/webhooks/foxreach/acme-corp`). FoxReach knows
/// nothing of it: it is the URL the application registered.
///
/// The set is small so that a name from a URL is safe in a log line, a
/// file name, a Redis key or a metric label, and so that two spellings can
/// never name one tenant. Cloning is cheap (a shared string).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tenant(Arc<str>);

impl Tenant {
    /// The tenant named `name`.
    ///
    /// # Errors
    ///
    /// [`InvalidTenant`] if `name` is empty, longer than [`MAX_TENANT_LEN`]
    /// bytes, holds anything but ASCII letters, digits, `-`, `_` and `.`, or
    /// does not start with a letter or a digit.
    pub fn new(name: &str) -> Result<Self, InvalidTenant> {
        let allowed = |byte: &u8| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.');
        if !name.starts_with(|first: char| first.is_ascii_alphanumeric())
            || name.len() > MAX_TENANT_LEN
            || !name.bytes().all(|byte| allowed(&byte))
        {
            return Err(InvalidTenant { len: name.len() });
        }
        Ok(Self(Arc::from(name)))
    }

    /// A name read back from storage (an inbox's entry), taken as it is,
    /// unchecked: it was written from a valid `Tenant`, and reading it back
    /// must not fail an entry (or a whole batch) if the rules of
    /// [`new`](Self::new) ever change. Use `new` for a name from anywhere
    /// else.
    #[must_use]
    pub fn stored(name: &str) -> Self {
        Self(Arc::from(name))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Tenant {
    type Err = InvalidTenant;

    fn from_str(name: &str) -> Result<Self, InvalidTenant> {
        Self::new(name)
    }
}

impl AsRef<str> for Tenant {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Tenant {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Tenant").field(&&*self.0).finish()
    }
}

/// A tenant name [`Tenant::new`] refused. It does not repeat the name,
/// which came from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTenant {
    len: usize,
}

impl fmt::Display for InvalidTenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not a tenant name ({} bytes): 1 to {MAX_TENANT_LEN} ASCII letters, digits, '-', '_' or '.', starting with a letter or a digit",
            self.len
        )
    }
}

impl std::error::Error for InvalidTenant {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["acme", "acme-corp_2.eu", "A", &"x".repeat(MAX_TENANT_LEN)] {
            assert_eq!(Tenant::new(good).expect("valid").as_str(), good);
        }
        for bad in ["", "a/b", "a b", "acmé", "..%2F", "..", ".hidden", &"x".repeat(MAX_TENANT_LEN + 1)] {
            let error = Tenant::new(bad).expect_err(bad);
            assert!(!error.to_string().contains(bad) || bad.is_empty());
        }
    }
}
