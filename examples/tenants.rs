//! One receiver for several FoxReach webhooks, one per customer workspace
//! (a tenant): `POST /webhooks/foxreach/{tenant}` on `127.0.0.1:$PORT`
//! (default 3000), each tenant verified with its own secret.
//!
//! Secrets are looked up when a tenant's first delivery arrives, as an
//! application would look them up in its database: here, the file
//! `$FOXREACH_SECRETS_DIR/<tenant>.secret` (what `foxreach-webhooks
//! webhooks create --secret-file` writes). A file with two lines holds two
//! secrets, the old one first: the tenant is being rotated, and deliveries
//! signed with either verify. Lookups are cached for 60 seconds, so that a
//! rotation on disk is picked up within a minute. When
//! `FOXREACH_SECRETS_DIR` is unset, two demo tenants are built in, with a
//! warning: `acme`, on the docs' demo secret, and `globex`, on
//! `globex-demo-secret`.
//!
//! Deliveries are kept in the durable inbox as in the `receiver` example
//! (`FOXREACH_INBOX`, `REDIS_URL`), each with its tenant, and the workers
//! print each event prefixed with it (`[acme] email.sent at ...`). An
//! unknown tenant gets `404`, a signature made with another tenant's secret
//! `401`, a secrets folder that cannot be read `503` (FoxReach retries).
//!
//! ```text
//! cargo run --all-features --example tenants
//! cargo run -p foxreach-cli -- send --demo-secret http://127.0.0.1:3000/webhooks/foxreach/acme
//! ```

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::inbox::Opened;
use foxreach_webhooks::delivery::{Dispatcher, Receive};
use foxreach_webhooks::http::axum::tenant_router;
use foxreach_webhooks::tenant::{CachedResolver, SecretResolver, Tenant, from_fn};
use foxreach_webhooks::{SecretError, Verifier};

/// The demo tenants' secrets, when `FOXREACH_SECRETS_DIR` is unset.
const DEMO_TENANTS: [(&str, &str); 2] = [("acme", common::DEMO_SECRET), ("globex", "globex-demo-secret")];

const ROUTE: &str = "/webhooks/foxreach/{tenant}";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .with_writer(std::io::stderr)
        .init();
    let folder = std::env::var_os("FOXREACH_SECRETS_DIR").map(PathBuf::from);
    if folder.is_none() {
        eprintln!("WARNING: FOXREACH_SECRETS_DIR is not set; serving the DEMO tenants acme and globex.");
        eprintln!("WARNING: anyone can forge deliveries signed with their secrets.");
    }
    let resolver = CachedResolver::new(
        from_fn(move |tenant: Tenant| {
            let folder = folder.clone();
            async move { lookup(folder, &tenant).await }
        }),
        10_000,
    )
    .time_to_live(Duration::from_secs(60));
    match common::inbox::open().await? {
        Opened::Sqlite(inbox, workers) => {
            serve(resolver, inbox).await?;
            workers.stop().await
        }
        Opened::Redis(inbox, workers) => {
            serve(resolver, inbox).await?;
            workers.stop().await
        }
        Opened::Memory => {
            let dispatcher = Dispatcher::new(common::printer::Printer::from_env());
            serve(resolver, dispatcher.clone()).await?;
            Ok(dispatcher.shutdown(common::SHUTDOWN_GRACE).await?)
        }
    }
}

async fn serve(resolver: impl SecretResolver, receiver: impl Receive) -> Result<(), Box<dyn std::error::Error>> {
    common::serve_at(tenant_router(ROUTE, resolver, receiver), ROUTE).await
}

/// Why a tenant's secret could not be read: logged by the receiver, never
/// answered.
#[derive(Debug)]
enum LookupError {
    Read(std::io::Error),
    Secret(SecretError),
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read(error) => write!(f, "cannot read the secret file: {error}"),
            Self::Secret(error) => write!(f, "the secret file holds no usable secret: {error}"),
        }
    }
}

impl std::error::Error for LookupError {}

/// The tenant's verifier: from `<folder>/<tenant>.secret` (one secret a
/// line, the old one first while rotating; a missing file is an unknown
/// tenant), or from the demo tenants without a folder. A tenant's name is
/// letters, digits, `-`, `_` and `.`, never starting with a dot: safe as a
/// file name.
async fn lookup(folder: Option<PathBuf>, tenant: &Tenant) -> Result<Option<Verifier>, LookupError> {
    let Some(folder) = folder else {
        let demo = DEMO_TENANTS.iter().find(|(name, _)| *name == tenant.as_str());
        return demo.map(|(_, secret)| Verifier::new(secret)).transpose().map_err(LookupError::Secret);
    };
    let text = match tokio::fs::read_to_string(folder.join(format!("{tenant}.secret"))).await {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(LookupError::Read(error)),
    };
    let secrets: Vec<&str> = text.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    Verifier::from_secrets(secrets).map(Some).map_err(LookupError::Secret)
}
