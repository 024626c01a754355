//! Resolvers the tenant tests share: one that counts its lookups, and an
//! error whose text must never reach an answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use foxreach_webhooks::Verifier;
use foxreach_webhooks::tenant::{SecretResolver, Tenant};

pub(crate) fn tenant(name: &str) -> Tenant {
    name.parse().expect("a tenant name")
}

/// A resolver error whose text must never reach an answer.
#[derive(Debug)]
pub(crate) struct VaultDown;

impl std::fmt::Display for VaultDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("vault at 10.0.0.7 refused token s.hunter2")
    }
}

impl std::error::Error for VaultDown {}

/// A resolver that counts its lookups, taking `delay` over each: a tenant
/// whose name starts with `t-` is known, its name its secret.
#[derive(Clone)]
pub(crate) struct Counting {
    lookups: Arc<AtomicUsize>,
    delay: Duration,
}

impl SecretResolver for Counting {
    type Error = std::convert::Infallible;

    async fn resolve(&self, tenant: &Tenant) -> Result<Option<Verifier>, Self::Error> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        Ok(tenant.as_str().starts_with("t-").then(|| Verifier::new(tenant.as_str()).expect("a secret")))
    }
}

pub(crate) fn counting(delay: Duration) -> (Counting, Arc<AtomicUsize>) {
    let lookups = Arc::new(AtomicUsize::new(0));
    (Counting { lookups: Arc::clone(&lookups), delay }, lookups)
}
