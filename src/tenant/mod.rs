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
//!    is answered `404 Not Found`;
//! 2. resolve its verifier: an unknown tenant (`Ok(None)`) is answered
//!    `404 Not Found`, a resolver that fails `503 Service Unavailable` with
//!    `Retry-After` (the error is logged, never answered). FoxReach retries
//!    both after 1, 5 and 30 minutes, so a secret store that is down for
//!    less than that loses nothing, and a webhook pointing at a tenant the
//!    application deleted fails until FoxReach marks it unhealthy;
//! 3. verify the body with it (`401` if another tenant's secret signed it);
//! 4. hand the delivery to the dispatcher or inbox with the tenant: its
//!    [`DeliveryKey`](crate::delivery::DeliveryKey) is scoped to the tenant
//!    ([`DeliveryKey::for_tenant`](crate::delivery::DeliveryKey::for_tenant)),
//!    so one tenant's delivery never suppresses another's, and the handler
//!    reads the tenant in [`Delivery::tenant`](crate::delivery::Delivery::tenant).
//!
//! Metrics and spans carry no tenant unless the application opts in with
//! [`observe::label_tenants`](crate::observe::label_tenants): each tenant
//! is a series of its own.

mod cache;
mod resolver;

use std::fmt;
use std::sync::Arc;

pub use cache::{CachedResolver, DEFAULT_UNKNOWN_TTL};
pub use resolver::{FnResolver, SecretResolver, from_fn};

/// The longest tenant name, in bytes.
pub const MAX_TENANT_LEN: usize = 128;

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
