//! What identifies a delivery, for telling a duplicate from a new one.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::{Verifier, VerifyError};

/// The identity of a delivery: 32 bytes, the HMAC of its body under the
/// verifier's first secret.
///
/// FoxReach sends no delivery id, but a duplicate carries the same body and
/// therefore the same HMAC, so the MAC that verification computes anyway
/// identifies the delivery at no extra cost. It is unforgeable without the
/// secret, so it is safe to store, and a sender cannot choose keys to
/// collide.
///
/// **Rotation.** FoxReach cannot rotate a secret in place: a second webhook
/// is created, and while both exist each event comes twice, the same body
/// signed under each secret (as FoxReach's API reference describes it).
/// [`verify`](Self::verify) (and the HTTP glue) key both copies by the MAC
/// under the *first* secret of `Verifier::from_secrets`, so the second copy
/// is a duplicate. Were FoxReach ever to send the two webhooks different
/// bodies (a timestamp of their own, say), the copies would count as two
/// deliveries. The recipe:
///
/// 1. create the new webhook with `isActive: false`, so that nothing is
///    signed with a secret the receiver does not know yet (a refused
///    delivery counts against the webhook's health);
/// 2. deploy with `from_secrets([old, new])`, the old secret first so that
///    keys do not change, then activate the new webhook;
/// 3. delete the old webhook in FoxReach;
/// 4. deploy with the new secret alone. From then on keys are MACs under
///    the new secret: a copy of a delivery processed before this deploy,
///    arriving after it, would be processed again, so deploy when no
///    delivery is being retried (FoxReach's retries end 36 minutes after a
///    first failure). With a `MemoryStore` every restart forgets the keys
///    anyway; this matters with a store that outlives deploys (`RedisStore`).
///
/// # Example
///
/// ```
/// use foxreach_webhooks::delivery::DeliveryKey;
/// use foxreach_webhooks::{sign, Verifier};
///
/// let verifier = Verifier::from_secrets(["old-secret", "new-secret"])?;
/// let body = br#"{"event":"email.sent"}"#;
/// let by_old = DeliveryKey::verify(&verifier, body, sign("old-secret", body))?;
/// let by_new = DeliveryKey::verify(&verifier, body, sign("new-secret", body))?;
/// assert_eq!(by_old, by_new);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryKey([u8; 32]);

impl DeliveryKey {
    /// A key made of these 32 bytes.
    #[must_use]
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Verifies `signature` (the `X-Webhook-Signature` value) over `body`
    /// and returns the delivery's key: the body's MAC under `verifier`'s
    /// first secret, the same whichever of its secrets signed.
    ///
    /// # Errors
    ///
    /// The [`VerifyError`] of [`Verifier::verify`]: the signature is
    /// missing, malformed, or made with none of the secrets.
    pub fn verify(verifier: &Verifier, body: &[u8], signature: impl AsRef<[u8]>) -> Result<Self, VerifyError> {
        verifier.delivery_mac(body, signature.as_ref()).map(Self)
    }

    /// The key of the delivery this `X-Webhook-Signature` value signed: its 64
    /// hex digits (either case) decoded. `None` if it is not 64 hex digits,
    /// which a verified signature always is. With one secret it equals
    /// [`verify`](Self::verify)'s key; while rotating, prefer `verify`, whose
    /// key does not depend on which secret signed.
    #[must_use]
    pub fn from_signature(signature: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(signature, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    /// A key for a body without a usable signature: its SHA-256. Costs a
    /// hash of the body, which [`from_signature`](Self::from_signature) does not.
    #[must_use]
    pub fn of_body(body: &[u8]) -> Self {
        Self(Sha256::digest(body).into())
    }

    /// This key scoped to `tenant`: the SHA-256 of a fixed label, the
    /// tenant's name with its length, and the key. The receivers built with
    /// a [`SecretResolver`](crate::tenant::SecretResolver) key each
    /// delivery so, so that two tenants never share a key, even if the
    /// application gave them one secret and FoxReach sent them one body.
    #[must_use]
    pub fn for_tenant(&self, tenant: &crate::tenant::Tenant) -> Self {
        let name = tenant.as_str().as_bytes();
        let digest = Sha256::new()
            .chain_update(b"foxreach-webhooks tenant key\0")
            .chain_update((name.len() as u64).to_be_bytes())
            .chain_update(name)
            .chain_update(self.0)
            .finalize();
        Self(digest.into())
    }

    /// The key's bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as 64 lowercase hex digits, for a store to name the
    /// delivery by. It is a MAC: keep it out of logs, where
    /// [`Display`](fmt::Display)'s fingerprint serves.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 8 bytes of the SHA-256 of the key: enough to tell
    /// deliveries apart in logs, and not part of any MAC.
    fn fingerprint(&self) -> [u8; 8] {
        let digest = Sha256::digest(self.0);
        let mut short = [0u8; 8];
        short.copy_from_slice(&digest[..8]);
        short
    }
}

/// A fingerprint for logs: 16 hex digits of the SHA-256 of the key, the
/// same for every copy of a delivery, and never digits of the MAC itself
/// (MACs stay out of logs). [`to_hex`](DeliveryKey::to_hex) gives the key.
impl fmt::Display for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // On the stack: every delivery's span and log line formats it.
        let mut digits = [0u8; 16];
        match hex::encode_to_slice(self.fingerprint(), &mut digits) {
            Ok(()) => f.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?),
            Err(_) => Err(fmt::Error),
        }
    }
}

/// The fingerprint of [`Display`](fmt::Display), never the MAC.
impl fmt::Debug for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeliveryKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_64_hex_digits() {
        assert_eq!(DeliveryKey::from_signature(""), None);
        assert_eq!(DeliveryKey::from_signature(&"a".repeat(63)), None);
        assert_eq!(DeliveryKey::from_signature(&"g".repeat(64)), None);
        assert_eq!(DeliveryKey::from_signature(&format!("{}é", "a".repeat(62))), None);
        assert!(DeliveryKey::from_signature(&"aF".repeat(32)).is_some());
    }

    #[test]
    fn decodes_as_the_hex_crate_does() {
        for seed in 0u8..=255 {
            let bytes: [u8; 32] =
                std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add((i as u8).wrapping_mul(97)));
            for signature in [hex::encode(bytes), hex::encode_upper(bytes)] {
                assert_eq!(DeliveryKey::from_signature(&signature), Some(DeliveryKey::new(bytes)), "{signature}");
            }
        }
    }

    #[test]
    fn logs_see_a_fingerprint_never_the_mac() {
        let key = DeliveryKey::from_signature(&crate::sign("secret", b"{}")).expect("64 hex digits");
        let (shown, debug, hex) = (key.to_string(), format!("{key:?}"), key.to_hex());
        assert_eq!(shown.len(), 16);
        assert_eq!(debug, format!("DeliveryKey({shown})"));
        for window in hex.as_bytes().windows(6) {
            let window = std::str::from_utf8(window).expect("hex");
            assert!(!shown.contains(window), "{shown} shares {window} with the MAC {hex}");
        }
    }

    #[test]
    fn a_body_key_is_its_sha256() {
        let key = DeliveryKey::of_body(b"abc");
        assert_eq!(key.to_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
