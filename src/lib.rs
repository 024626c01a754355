//! Receive [FoxReach](https://foxreach.io) webhooks safely: verify each
//! delivery's HMAC-SHA256 signature in constant time, then hand the
//! application a typed event.
//!
//! # Quick start
//!
//! ```
//! use foxreach_webhooks::{Event, EventData, Verifier};
//!
//! // Once, at start-up: the secret FoxReach returned when the webhook was created.
//! let verifier = Verifier::new("a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6a7b8c9d0e1f2")?;
//!
//! // Per request: the raw body and the X-Webhook-Signature header.
//! let body = br#"{"event":"campaign.completed","timestamp":"2025-02-01T18:00:00Z","data":{"campaignId":"cmp_456"}}"#;
//! let signature = "779953295f6ac24aced5ae57c549372e35e393cf6d1e254d33649bcffd6e2494";
//!
//! verifier.verify(body, signature)?; // answer 401 on error
//! // Parse only what verified. Leniently: a payload that drifted from the docs
//! // degrades instead of failing (400 if not JSON, 422 without a string `event`).
//! let event = Event::from_slice_lenient(body)?;
//! match event.data {
//!     EventData::CampaignCompleted(done) => println!("campaign {} completed", done.campaign_id),
//!     other => println!("{} ignored", other.name()),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is where
//!
//! - [`signature`]: [`verify`], [`sign`] and the pre-keyed [`Verifier`]
//!   (several secrets during a rotation).
//! - [`event`]: [`Event`], [`EventData`] with one typed payload per documented
//!   event type, [`EventType`].
//! - `delivery` (feature `delivery`): a `Handler` per event type, the
//!   `Dispatcher` with duplicate suppression (`MemoryStore`, `RedisStore`)
//!   and an opt-in `ReplayWindow`; nothing in it knows HTTP.
//! - `tenant` (feature `delivery`): several FoxReach webhooks in one
//!   receiver, each tenant's verifier found by a `SecretResolver` behind a
//!   bounded `CachedResolver`.
//! - [`observe`]: the metrics (feature `metrics`) and the span each
//!   delivery's handler runs in.
//! - `http` (feature `http`): checking an `http::HeaderMap`, the rejection
//!   type with its statuses, the tower layer and `receiver` (`http::tower`,
//!   feature `tower`), the axum extractors and `router` (`http::axum`,
//!   feature `axum`), serving with timeouts and limits (`http::server`,
//!   feature `server`), and signed requests for tests (`http::test_util`,
//!   feature `test-util`).
//! - [`secret`]: reading secrets from an environment variable or files.
//!
//! Beside this crate, `foxreach-inbox` is the durable inbox (SQLite or Redis
//! Streams) with its workers, `foxreach-api` a client of FoxReach's webhook
//! management API, and `foxreach-cli` the `foxreach-webhooks` command-line
//! tool.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | *(none)* | | `verify`, `Verifier`, typed events: no HTTP stack, no async runtime |
//! | `http` | | `Verifier::verify_headers`, `WebhookRejection`, `VerifiedBody`, `FullBody` (the `http` crate) |
//! | `tower` | | `VerifySignatureLayer` for any tower or hyper service; with `delivery`, a one-call `receiver` (implies `http`) |
//! | `axum` | | the `FoxReachEvent` and `VerifiedBody` extractors; with `delivery`, a one-call `router` (implies `tower`) |
//! | `tracing` | | rejections logged at debug level: status and reason, never bodies or secrets |
//! | `server` | | `http::server::Server`: serving over HTTP/1.1 (hyper, `tokio`) with header and idle timeouts, a connection limit and a shutdown deadline (implies `http`) |
//! | `delivery` | | handlers per event type, each run to its end on a Tokio task (`tokio`, `tokio-util`), duplicate suppression (on `quick_cache`), the replay window (adds `tracing` for handler failures) |
//! | `redis` | | `RedisStore`, duplicate suppression shared by several receivers (implies `delivery`) |
//! | `metrics` | | counters, histograms and gauges through the `metrics` facade ([`observe`]) |
//! | `test-util` | | signed and tampered `http::Request`s for testing a receiver (implies `http`) |
//!
//! A user who only verifies compiles neither tower nor axum; the `tower`
//! feature does not pull in axum, and `axum` uses axum without its default
//! features.
//!
//! # In an axum app
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use axum::{Router, http::StatusCode, routing::post};
//! use foxreach_webhooks::http::axum::FoxReachEvent;
//! use foxreach_webhooks::Verifier;
//!
//! async fn receive(FoxReachEvent(event): FoxReachEvent) -> StatusCode {
//!     println!("{} at {}", event.name(), event.timestamp);
//!     StatusCode::NO_CONTENT
//! }
//!
//! let verifier = Verifier::new("the-webhook-secret").expect("a secret");
//! let app: Router = Router::new().route("/webhooks/foxreach", post(receive)).with_state(verifier);
//! # }
//! ```
//!
//! # Security notes
//!
//! - Verify the raw body bytes exactly as received, before parsing: the
//!   signature does not survive re-serialization.
//! - The key is the secret string's UTF-8 bytes, not hex-decoded.
//! - `Debug` never prints a secret, and key material is wiped on drop.
//! - FoxReach may deliver the same event twice; process idempotently.
//! - Logs name a delivery by a fingerprint of its key, never by a MAC, and
//!   never quote a body.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "delivery")]
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub mod delivery;
pub mod event;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod observe;
pub mod secret;
pub mod signature;
#[cfg(feature = "delivery")]
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub mod tenant;

pub use event::{Event, EventData, EventType, ParseError};
pub use signature::{SIGNATURE_HEADER, SecretError, Verifier, VerifyError, sign, verify};

/// The Rust examples of the README and of the guides in `docs/`, compiled
/// as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
#[doc = include_str!("../docs/receiving.md")]
#[doc = include_str!("../docs/operating.md")]
struct ReadmeDoctests;
