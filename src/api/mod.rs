//! A client of FoxReach's webhook management API, and its models (feature
//! `api`).
//!
//! Before any delivery arrives, a webhook is created with
//! `POST /api/v1/webhooks`; that answer is the only time FoxReach shows the
//! webhook's secret. [`Client`] creates, lists, updates and deletes
//! webhooks and lists the event types FoxReach offers; the secret comes
//! back as a [`WebhookSecret`], which never prints and is wiped on drop,
//! and is written to a new owner-only file by
//! [`WebhookSecret::write_new_file`] (or a [`SecretFile`] made before the
//! webhook, so that an unwritable path fails first).
//!
//! FoxReach cannot rotate a secret in place: rotating is creating a second
//! webhook for the same URL and events, running the receiver with both
//! secrets ([`Verifier::from_secrets`](crate::Verifier::from_secrets)),
//! then deleting the first. Meanwhile each event is delivered twice, with
//! the same body; the `delivery` feature's duplicate suppression sees one.
//!
//! ```no_run
//! use foxreach_webhooks::{EventType, Verifier};
//! use foxreach_webhooks::api::{ApiKey, Client, NewWebhook, WebhookSecret};
//!
//! # async fn rotate(old_id: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(ApiKey::new(std::env::var("FOXREACH_API_KEY")?))?;
//! let old = client.find(old_id).await?.ok_or("no such webhook")?;
//! let new = client.create(&NewWebhook::with_event_names(old.url, old.events)).await?;
//! new.secret.write_new_file("new.secret")?;
//! // Deploy the receiver with both secrets...
//! let verifier = Verifier::from_secrets([&new.secret, &WebhookSecret::read_file("old.secret")?])?;
//! // ...then stop the old webhook's deliveries.
//! client.delete(old_id).await?;
//! # let _ = verifier; Ok(()) }
//! ```
//!
//! Source: FoxReach's API reference, as this project's contract document
//! gathers it: base URL `https://api.foxreach.io/api/v1`, the key in
//! `X-API-Key`, answers in `{"data": ...}` (lists with `meta`), 100
//! requests a minute, camelCase fields, timestamps in ISO 8601 without an
//! offset meaning UTC.

mod answer;
mod builder;
mod client;
mod error;
mod key;
mod models;
mod secret;

pub use builder::{ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT, DEFAULT_TIMEOUT};
pub use client::Client;
pub use error::{ApiError, NetworkError};
pub use key::ApiKey;
pub use models::{CreatedWebhook, NewWebhook, Page, PageMeta, Webhook, WebhookUpdate};
pub use secret::{SecretFile, WebhookSecret};
