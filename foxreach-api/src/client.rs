//! The client of FoxReach's webhook management API.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderValue};
use reqwest::{Method, Url};
use serde::Serialize;

use super::answer;
use super::error::ApiError;
use super::key::ApiKey;
use super::models::{
    CreatedWebhook, Envelope, ListEnvelope, NewWebhook, OfferedEventType, Page, Webhook, WebhookUpdate,
};
use super::redacted::shown;
use super::secret::WebhookSecret;

/// The wait assumed when a 429 has no `Retry-After` in seconds: FoxReach's
/// rate limit window.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// The most pages [`Client::list`] reads, against a server whose `meta`
/// never ends.
const MAX_PAGES: u32 = 1000;

/// The header FoxReach reads the API key from.
const KEY_HEADER: &str = "X-API-Key";

/// A client of FoxReach's webhook management API: create, list, update and
/// delete webhooks, and list the event types FoxReach offers.
///
/// Every request carries the API key in `X-API-Key` and answers are read
/// out of their `{"data": ...}` envelope. A 429 (FoxReach allows 100
/// requests a minute) is waited out and retried, up to
/// [`max_retries`](crate::ClientBuilder::max_retries) times and only when
/// `Retry-After` asks for no more than
/// [`max_retry_wait`](crate::ClientBuilder::max_retry_wait) (a missing or
/// HTTP-date `Retry-After` counts as a minute); past either bound the
/// client returns [`ApiError::RateLimited`] with the delay FoxReach asked
/// for, at once. Redirects are not followed, so that the key goes nowhere
/// but the base URL. Cloning shares the connection pool.
///
/// Source of the endpoints and fields: FoxReach's API reference, as
/// gathered in this project's contract document.
///
/// ```no_run
/// use foxreach_webhooks::EventType;
/// use foxreach_api::{ApiKey, Client, NewWebhook};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::new(ApiKey::new(std::env::var("FOXREACH_API_KEY")?))?;
/// let created = client
///     .create(&NewWebhook::new("https://example.com/webhooks/foxreach", [EventType::ReplyReceived]))
///     .await?;
/// created.secret.write_new_file("foxreach-webhook.secret")?; // shown once: keep it
/// for webhook in client.list().await? {
///     println!("{} {} failures: {}", webhook.id, webhook.url, webhook.consecutive_failures);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(super) http: reqwest::Client,
    pub(super) base: Url,
    pub(super) key: Arc<ApiKey>,
    pub(super) timeout: Duration,
    pub(super) max_retries: u32,
    pub(super) max_retry_wait: Duration,
}

impl Client {
    /// The base URL the paths are appended to.
    #[must_use]
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `POST /webhooks`: creates a webhook. The answer is the only time
    /// FoxReach shows its secret: keep [`CreatedWebhook::secret`].
    ///
    /// # Errors
    ///
    /// [`ApiError::Rejected`] naming the event types FoxReach does not
    /// offer (422), [`ApiError::MissingSecret`] if the webhook was created
    /// but the answer had no secret, and as every call:
    /// [`ApiError::Unauthorized`], [`ApiError::RateLimited`],
    /// [`ApiError::Status`], [`ApiError::Timeout`], [`ApiError::Network`],
    /// [`ApiError::Body`].
    pub async fn create(&self, webhook: &NewWebhook) -> Result<CreatedWebhook, ApiError> {
        let (status, body) = self.send(Method::POST, &["webhooks"], Some(webhook), &webhook.events).await?;
        let Envelope { data: webhook } = answer::parse::<Envelope<Webhook>>(status, &body)?;
        #[derive(serde::Deserialize)]
        struct Secret {
            secret: Option<WebhookSecret>,
        }
        let Envelope { data: Secret { secret } } = answer::parse::<Envelope<Secret>>(status, &body)?;
        match secret {
            Some(secret) if !secret.expose().is_empty() => Ok(CreatedWebhook { webhook, secret }),
            _ => Err(ApiError::MissingSecret { webhook_id: webhook.id }),
        }
    }

    /// `GET /webhooks?page=N`: one page of the account's webhooks (pages
    /// count from 1), with FoxReach's `meta`. The secrets are never listed.
    ///
    /// # Errors
    ///
    /// As every call: [`ApiError::Unauthorized`], [`ApiError::RateLimited`],
    /// [`ApiError::Status`], [`ApiError::Timeout`], [`ApiError::Network`],
    /// [`ApiError::Body`].
    pub async fn list_page(&self, page: u32) -> Result<Page<Webhook>, ApiError> {
        let mut url = self.url(&["webhooks"])?;
        url.query_pairs_mut().append_pair("page", &page.to_string());
        let (status, body) = self.send_to(Method::GET, url, None::<&()>, &[]).await?;
        let ListEnvelope { data, meta } = answer::parse::<ListEnvelope<Webhook>>(status, &body)?;
        Ok(Page { items: data, meta })
    }

    /// Every webhook of the account: [`list_page`](Self::list_page) from
    /// page 1 until `meta` says there are no more (one page when the answer
    /// has no `meta`).
    ///
    /// # Errors
    ///
    /// As [`list_page`](Self::list_page), for any page.
    pub async fn list(&self) -> Result<Vec<Webhook>, ApiError> {
        let mut webhooks = Vec::new();
        for number in 1..=MAX_PAGES {
            let page = self.list_page(number).await?;
            let empty = page.items.is_empty();
            webhooks.extend(page.items);
            match page.meta {
                Some(meta) if !empty && meta.total_pages > number => {}
                _ => break,
            }
        }
        Ok(webhooks)
    }

    /// The webhook with this id, or `None`. FoxReach documents no endpoint
    /// for one webhook, so this goes through [`list`](Self::list).
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list).
    pub async fn find(&self, id: &str) -> Result<Option<Webhook>, ApiError> {
        Ok(self.list().await?.into_iter().find(|webhook| webhook.id == id))
    }

    /// `PATCH /webhooks/{id}`: changes the fields `update` sets (url,
    /// events, `isActive`), and returns the webhook as it now is. The
    /// secret stays the same; it cannot be changed.
    ///
    /// # Errors
    ///
    /// [`ApiError::NotFound`] if there is no such webhook (404),
    /// [`ApiError::Rejected`] for event types FoxReach does not offer
    /// (422), and as every call: [`ApiError::Unauthorized`],
    /// [`ApiError::RateLimited`], [`ApiError::Status`],
    /// [`ApiError::Timeout`], [`ApiError::Network`], [`ApiError::Body`].
    pub async fn update(&self, id: &str, update: &WebhookUpdate) -> Result<Webhook, ApiError> {
        let sent = update.events.as_deref().unwrap_or_default();
        let (status, body) = self.send(Method::PATCH, &["webhooks", id], Some(update), sent).await?;
        Ok(answer::parse::<Envelope<Webhook>>(status, &body)?.data)
    }

    /// `DELETE /webhooks/{id}`: FoxReach stops delivering to it at once.
    ///
    /// # Errors
    ///
    /// [`ApiError::NotFound`] if there is no such webhook (404), and as
    /// every call: [`ApiError::Unauthorized`], [`ApiError::RateLimited`],
    /// [`ApiError::Status`], [`ApiError::Timeout`], [`ApiError::Network`].
    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        self.send(Method::DELETE, &["webhooks", id], None::<&()>, &[]).await.map(drop)
    }

    /// `GET /webhooks/events`: the wire names of the event types FoxReach
    /// offers, in its order. The contract does not give the entries' shape:
    /// a bare string is a name, and an object's name is its `type`,
    /// `event`, `name` or `value` string (entries with none are skipped).
    ///
    /// # Errors
    ///
    /// As every call: [`ApiError::Unauthorized`], [`ApiError::RateLimited`],
    /// [`ApiError::Status`], [`ApiError::Timeout`], [`ApiError::Network`],
    /// [`ApiError::Body`].
    pub async fn event_types(&self) -> Result<Vec<String>, ApiError> {
        let (status, body) = self.send(Method::GET, &["webhooks", "events"], None::<&()>, &[]).await?;
        let offered = answer::parse::<Envelope<Vec<OfferedEventType>>>(status, &body)?.data;
        Ok(offered.into_iter().filter_map(OfferedEventType::into_name).collect())
    }

    /// The base URL with `segments` appended, each percent-encoded (an id
    /// cannot reach another path).
    fn url(&self, segments: &[&str]) -> Result<Url, ApiError> {
        // The URL crate drops `.` and `..` segments and an empty id would
        // name the collection: `delete("..")` must not become `DELETE /webhooks`.
        if segments.iter().any(|segment| matches!(*segment, "" | "." | "..")) {
            return Err(ApiError::Config("a webhook id cannot be empty, `.` or `..`".to_owned()));
        }
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ApiError::Config(format!("the base URL {} cannot have paths appended", shown(&self.base))))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    async fn send(
        &self,
        method: Method,
        segments: &[&str],
        json: Option<&impl Serialize>,
        sent_events: &[String],
    ) -> Result<(u16, zeroize::Zeroizing<Vec<u8>>), ApiError> {
        self.send_to(method, self.url(segments)?, json, sent_events).await
    }

    /// Sends the request, waiting out 429s as the client's settings allow,
    /// and returns a 2xx answer's status and body, or the error the answer
    /// means.
    async fn send_to(
        &self,
        method: Method,
        url: Url,
        json: Option<&impl Serialize>,
        sent_events: &[String],
    ) -> Result<(u16, zeroize::Zeroizing<Vec<u8>>), ApiError> {
        let network = |error| answer::network(error, self.timeout);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut key = HeaderValue::from_str(self.key.expose())
                .map_err(|_| ApiError::Config("the API key holds characters an HTTP header cannot carry".to_owned()))?;
            key.set_sensitive(true);
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(KEY_HEADER, key)
                .header(ACCEPT, "application/json");
            if let Some(json) = json {
                request = request.json(json);
            }
            let response = request.send().await.map_err(network)?;
            let status = response.status().as_u16();
            if status == 429 {
                let asked = answer::retry_after(response.headers());
                let wait = asked.unwrap_or(RATE_WINDOW);
                if attempts <= self.max_retries && wait <= self.max_retry_wait {
                    drop(response);
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(ApiError::RateLimited { retry_after: asked, attempts });
            }
            let body = answer::body(response, network).await?;
            if (200..300).contains(&status) {
                return Ok((status, body));
            }
            return Err(answer::refusal(status, &body, self.key.expose(), sent_events));
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &shown(&self.base))
            .field("key", &self.key)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("max_retry_wait", &self.max_retry_wait)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::super::DEFAULT_BASE_URL;
    use super::*;

    fn build(base_url: &str) -> Result<Client, ApiError> {
        Client::builder(ApiKey::new("otr_test")).base_url(base_url).build()
    }

    #[test]
    fn the_default_client_builds_with_rustls_on_ring() {
        // reqwest refuses a TLS configuration of another rustls than its own.
        let client = Client::new(ApiKey::new("otr_test")).expect("the default client");
        assert_eq!(client.base_url(), DEFAULT_BASE_URL);
    }

    #[test]
    fn plain_http_is_refused_off_this_machine() {
        for local in ["http://127.0.0.1:9/api/v1", "http://localhost:9", "http://[::1]:9/api/v1/"] {
            assert!(build(local).is_ok(), "{local}");
        }
        for remote in ["http://api.foxreach.io/api/v1", "ftp://127.0.0.1/", "not a url", "mailto:x@example.com"] {
            assert!(matches!(build(remote), Err(ApiError::Config(_))), "{remote}");
        }
        let bad_key = Client::builder(ApiKey::new("otr_a\nb")).build().expect_err("a newline in a header");
        assert!(!bad_key.to_string().contains("otr_a"), "{bad_key}");
    }

    #[test]
    fn a_base_url_with_userinfo_query_or_fragment_is_refused_unquoted() {
        let builder = Client::builder(ApiKey::new("otr_test")).base_url("https://u:pw@h/api?api_key=otr_x");
        let debug = format!("{builder:?}");
        assert!(debug.contains("https://h/api") && !debug.contains("pw") && !debug.contains("otr_x"), "{debug}");
        let error = builder.build().expect_err("userinfo and a query are refused");
        assert!(matches!(error, ApiError::Config(_)), "{error:?}");
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains("pw") && !shown.contains("otr_x"), "{shown}");
        }
        for url in ["https://u@h/api", "https://h/api?x=1", "https://h/api#pw", "https://:pw@h/api"] {
            let error = build(url).expect_err(url);
            assert!(!error.to_string().contains("pw") && !error.to_string().contains(url), "{error}");
        }
        let unparsable = build("https://u:pw@h:99999/api?api_key=otr_x").expect_err("not a URL");
        assert!(!unparsable.to_string().contains("pw") && !unparsable.to_string().contains("otr_x"), "{unparsable}");
        let client = build("http://127.0.0.1:9/api/v1").expect("a client");
        assert!(format!("{client:?}").contains("base_url: \"http://127.0.0.1:9/api/v1\""), "{client:?}");
    }

    #[test]
    fn ids_are_one_percent_encoded_path_segment() {
        let client = build("http://127.0.0.1:9/api/v1/").expect("a client");
        let url = client.url(&["webhooks", "../cwh_1?x=y"]).expect("a URL");
        assert_eq!(url.as_str(), "http://127.0.0.1:9/api/v1/webhooks/..%2Fcwh_1%3Fx=y");
        for id in ["", ".", ".."] {
            assert!(matches!(client.url(&["webhooks", id]), Err(ApiError::Config(_))), "{id:?} names no webhook");
        }
    }
}
