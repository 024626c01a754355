//! The settings of a [`Client`]: base URL, timeout, 429 policy, TLS.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderValue;
use rustls_platform_verifier::BuilderVerifierExt as _;

use super::client::Client;
use super::error::ApiError;
use super::key::ApiKey;
use super::redacted::shown;

/// FoxReach's API, which [`Client::new`] talks to.
pub const DEFAULT_BASE_URL: &str = "https://api.foxreach.io/api/v1";

/// How long a request may take, answer included, unless
/// [`ClientBuilder::timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How many times a request answered 429 is sent again, unless
/// [`ClientBuilder::max_retries`] says otherwise.
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// The longest `Retry-After` the client waits out, unless
/// [`ClientBuilder::max_retry_wait`] says otherwise: FoxReach's rate limit
/// is 100 requests a minute, so a minute is the most it should ask.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(60);

/// Settings of a [`Client`], from [`Client::builder`]. Its `Debug` shows
/// the key redacted and of the base URL only its scheme, host, port and
/// path.
pub struct ClientBuilder {
    key: ApiKey,
    base_url: String,
    timeout: Duration,
    max_retries: u32,
    max_retry_wait: Duration,
}

impl ClientBuilder {
    pub(super) fn new(key: ApiKey) -> Self {
        Self {
            key,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
        }
    }

    /// The API's base URL, [`DEFAULT_BASE_URL`] unless set: `https://`, or
    /// `http://` on a loopback address only (a local stand-in), since the
    /// key would otherwise cross the network in clear.
    #[must_use]
    pub fn base_url(self, base_url: impl Into<String>) -> Self {
        Self { base_url: base_url.into(), ..self }
    }

    /// How long one request may take, from connecting to the end of the
    /// answer ([`DEFAULT_TIMEOUT`] unless set).
    #[must_use]
    pub fn timeout(self, timeout: Duration) -> Self {
        Self { timeout, ..self }
    }

    /// How many times a request answered 429 is sent again
    /// ([`DEFAULT_MAX_RETRIES`] unless set; 0 never waits).
    #[must_use]
    pub fn max_retries(self, max_retries: u32) -> Self {
        Self { max_retries, ..self }
    }

    /// The longest `Retry-After` waited out ([`DEFAULT_MAX_RETRY_WAIT`]
    /// unless set); a longer one is returned at once as
    /// [`ApiError::RateLimited`].
    #[must_use]
    pub fn max_retry_wait(self, max_retry_wait: Duration) -> Self {
        Self { max_retry_wait, ..self }
    }

    /// The client.
    ///
    /// # Errors
    ///
    /// [`ApiError::Config`] if the base URL is not an `https://` URL (or
    /// `http://` on a loopback address), if the key cannot be an HTTP
    /// header value, or if the system's TLS roots cannot be loaded.
    pub fn build(self) -> Result<Client, ApiError> {
        let config = |reason: String| ApiError::Config(reason);
        // The URL is not quoted: it may carry a password or a key.
        let base = Url::parse(self.base_url.trim_end_matches('/'))
            .map_err(|error| config(format!("the base URL is not a URL ({error})")))?;
        if !base.username().is_empty()
            || base.password().is_some()
            || base.query().is_some()
            || base.fragment().is_some()
        {
            return Err(config(
                "the base URL carries a user name, password, query or fragment: give only its scheme, host, port \
                 and path (the API key goes in the key, never in the URL)"
                    .to_owned(),
            ));
        }
        if base.cannot_be_a_base() {
            return Err(config(format!("the base URL {} cannot have paths appended", shown(&base))));
        }
        let tls = match base.scheme() {
            "https" => tls(true)?,
            "http" if is_loopback(&base) => tls(false)?,
            _ => {
                return Err(config(format!(
                    "the base URL {} is not https:// (http:// is allowed on a loopback address only, where the API \
                     key does not cross a network)",
                    shown(&base)
                )));
            }
        };
        if HeaderValue::from_str(self.key.expose()).is_err() {
            return Err(config("the API key holds characters an HTTP header cannot carry".to_owned()));
        }
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("foxreach-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| config(format!("cannot build the HTTP client: {error}")))?;
        Ok(Client {
            http,
            base,
            key: Arc::new(self.key),
            timeout: self.timeout,
            max_retries: self.max_retries,
            max_retry_wait: self.max_retry_wait,
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base_url = Url::parse(&self.base_url).map_or_else(|_| "[not a URL]".to_owned(), |url| shown(&url));
        f.debug_struct("ClientBuilder")
            .field("key", &self.key)
            .field("base_url", &base_url)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("max_retry_wait", &self.max_retry_wait)
            .finish()
    }
}

/// rustls with ring: trusting what the operating system trusts, or, for
/// a plain-HTTP base URL, nothing (the HTTP client wants a TLS
/// configuration, and no TLS connection is ever made with that one).
fn tls(platform_roots: bool) -> Result<rustls::ClientConfig, ApiError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls_error = |error: rustls::Error| ApiError::Config(format!("cannot set up TLS: {error}"));
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    let builder = match platform_roots {
        true => builder.with_platform_verifier().map_err(tls_error)?,
        false => builder.with_root_certificates(rustls::RootCertStore::empty()),
    };
    Ok(builder.with_no_client_auth())
}

/// Whether `url` names this machine (`127.0.0.0/8`, `::1`, `localhost`).
fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Client {
    /// A client of [`DEFAULT_BASE_URL`](super::DEFAULT_BASE_URL) with the default settings.
    ///
    /// # Errors
    ///
    /// As [`ClientBuilder::build`].
    pub fn new(key: ApiKey) -> Result<Self, ApiError> {
        Self::builder(key).build()
    }

    /// Settings for a client: base URL, timeout, and how 429s are waited out.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foxreach_api::{ApiKey, Client};
    ///
    /// let client = Client::builder(ApiKey::new("otr_example"))
    ///     .base_url("http://127.0.0.1:8080/api/v1")
    ///     .timeout(Duration::from_secs(5))
    ///     .max_retries(0)
    ///     .build()?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8080/api/v1");
    /// assert!(!format!("{client:?}").contains("otr_example"));
    /// # Ok::<(), foxreach_api::ApiError>(())
    /// ```
    pub fn builder(key: ApiKey) -> ClientBuilder {
        ClientBuilder::new(key)
    }
}
