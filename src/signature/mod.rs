//! Verifying that a delivery comes from FoxReach.
//!
//! FoxReach signs each webhook body with HMAC-SHA256, keyed with the UTF-8
//! bytes of the webhook's secret, and sends the MAC as 64 lowercase hex digits
//! in the `X-Webhook-Signature` header: no prefix, no timestamp. The secret is
//! shown once, when the webhook is created.
//!
//! Use [`verify`] for a one-off check, and a [`Verifier`] wherever requests
//! arrive repeatedly: it keys each secret's HMAC once and accepts
//! several secrets during a rotation.
//!
//! ```
//! use foxreach_webhooks::{sign, verify, VerifyError};
//!
//! let secret = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6a7b8c9d0e1f2";
//! let body = br#"{"event":"campaign.paused","timestamp":"2025-01-16T09:00:00Z","data":{"campaignId":"cmp_456"}}"#;
//! let header = sign(secret, body);
//! assert_eq!(header, "c9ea0c7d280ee6f36fe162216bd46f08b00dbfe36383d0b22c93f499667588c0");
//!
//! assert_eq!(verify(secret, body, &header), Ok(()));
//! assert_eq!(verify(secret, b"{ }", &header), Err(VerifyError::Mismatch));
//! ```

mod error;
mod hex;
mod key;
mod verifier;

pub use error::{SecretError, SignatureShape, VerifyError};
pub use verifier::Verifier;
#[cfg(all(feature = "delivery", feature = "tower"))]
pub(crate) use verifier::check_shape;

use key::Key;

/// The name of the header that carries the signature, lowercase as the `http`
/// crate stores header names (HTTP header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";

/// The signature FoxReach sends for `body` under `secret`: the lowercase hex
/// HMAC-SHA256 of the body, keyed with the secret's bytes.
///
/// # Example
///
/// ```
/// let signature = foxreach_webhooks::sign("my-webhook-secret", b"{}");
/// assert_eq!(signature.len(), 64);
/// ```
#[must_use]
pub fn sign(secret: impl AsRef<[u8]>, body: &[u8]) -> String {
    verifier::encode(&Key::new(secret.as_ref()), body)
}

/// Checks `signature` (the `X-Webhook-Signature` value) against the raw
/// `body` under one `secret`, in constant time.
///
/// This sets up the HMAC key on every call; where many requests arrive, build
/// a [`Verifier`] once instead.
///
/// # Errors
///
/// [`VerifyError::EmptySecret`] if the secret is empty (nothing verifies
/// against an empty key), [`VerifyError::Missing`] for an empty signature,
/// [`VerifyError::Malformed`] unless it is exactly 64 hex digits, and
/// [`VerifyError::Mismatch`] if it is not the MAC of `body` under `secret`.
pub fn verify(secret: impl AsRef<[u8]>, body: &[u8], signature: impl AsRef<[u8]>) -> Result<(), VerifyError> {
    match secret.as_ref() {
        [] => Err(VerifyError::EmptySecret),
        secret => verifier::verify_with(&[Key::new(secret)], body, signature.as_ref()),
    }
}
