//! A client of FoxReach's webhook management API, and its models.
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
//! webhook for the same URL and events, inactive, running the receiver with
//! both secrets, the old one first
//! ([`Verifier::from_secret_files`](foxreach_webhooks::Verifier::from_secret_files) or
//! [`Verifier::from_secrets`](foxreach_webhooks::Verifier::from_secrets)), activating
//! the second webhook, then deleting the first, as
//! `foxreach_webhooks::delivery::DeliveryKey`'s docs explain (feature
//! `delivery` of `foxreach-webhooks`). While both are active each event is delivered twice, with
//! the same body; `foxreach-webhooks`' duplicate suppression sees one.
//!
//! ```no_run
//! use foxreach_webhooks::Verifier;
//! use foxreach_api::{ApiKey, Client, NewWebhook, WebhookUpdate};
//!
//! # async fn rotate(old_id: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(ApiKey::new(std::env::var("FOXREACH_API_KEY")?))?;
//! let old = client.find(old_id).await?.ok_or("no such webhook")?;
//! // Inactive: nothing is signed with a secret the receiver does not know yet.
//! let replacement = NewWebhook::with_event_names(old.url, old.events).active(false);
//! let new = client.create(&replacement).await?;
//! new.secret.write_new_file("new.secret")?;
//! // Deploy the receiver with both secrets, the old one first...
//! let verifier = Verifier::from_secret_files(["old.secret", "new.secret"])?.verifier;
//! // ...then activate the new webhook before the old one stops.
//! client.update(&new.webhook.id, &WebhookUpdate::new().active(old.is_active)).await?;
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
mod redacted;
mod secret;

pub use builder::{ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT, DEFAULT_TIMEOUT};
pub use client::Client;
pub use error::{ApiError, NetworkError};
pub use key::ApiKey;
pub use models::{CreatedWebhook, NewWebhook, Page, PageMeta, Webhook, WebhookUpdate};
pub use secret::{SecretFile, WebhookSecret};

/// The README's Rust example, compiled as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
