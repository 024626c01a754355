//! The pre-keyed verifier for the hot path.

use std::fmt;
use std::sync::Arc;

use super::error::{SecretError, SignatureShape, VerifyError};
use super::hex::{MAC_HEX_LEN, is_hex, is_hex_of};
use super::key::Key;

/// Verifies FoxReach signatures against one or more webhook secrets, with each
/// secret's HMAC keyed once, up front.
///
/// Build it once at start-up and share it: cloning is a reference-count
/// increment, and it is `Send + Sync`. Give it several secrets while rotating
/// (the old and the new one are both valid until FoxReach uses only the new
/// one). `Debug` shows how many secrets it holds, never the secrets, and the
/// key material is wiped from memory when the last clone is dropped.
///
/// # Example
///
/// ```
/// use foxreach_webhooks::Verifier;
///
/// let verifier = Verifier::new("the-secret-foxreach-returned")?;
/// let body = br#"{"event":"campaign.started","timestamp":"2025-01-15T09:00:00Z","data":{"campaignId":"cmp_456"}}"#;
/// let signature = verifier.sign(body); // what FoxReach puts in X-Webhook-Signature
/// assert!(verifier.verify(body, &signature).is_ok());
/// assert!(verifier.verify(b"{}", &signature).is_err());
/// # Ok::<(), foxreach_webhooks::SecretError>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    /// Never empty: the constructors refuse to build a verifier without keys.
    keys: Arc<[Key]>,
}

impl Verifier {
    /// A verifier for one webhook secret: the string FoxReach returned when
    /// the webhook was created, as is (its UTF-8 bytes, not hex-decoded).
    ///
    /// # Errors
    ///
    /// [`SecretError::Empty`] if the secret is empty, so that an unset
    /// environment variable fails at start-up instead of accepting forgeries.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, SecretError> {
        Self::from_secrets([secret])
    }

    /// A verifier that accepts a signature made with any of `secrets`, for
    /// rotating a webhook's secret without dropping deliveries. The first
    /// secret is the one [`sign`](Self::sign) uses, and the one whose MAC
    /// keys a delivery for duplicate suppression: while rotating, give the
    /// old secret first (`[old, new]`), so that keys do not change when the
    /// new one is added. [`from_secret_files`](Self::from_secret_files)
    /// reads them from files.
    ///
    /// # Errors
    ///
    /// [`SecretError::Empty`] if any secret is empty, [`SecretError::NoSecrets`]
    /// if there are none.
    ///
    /// # Example
    ///
    /// ```
    /// use foxreach_webhooks::{sign, Verifier};
    ///
    /// let verifier = Verifier::from_secrets(["old-secret", "new-secret"])?;
    /// assert!(verifier.verify(b"{}", sign("old-secret", b"{}")).is_ok());
    /// assert!(verifier.verify(b"{}", sign("new-secret", b"{}")).is_ok());
    /// assert!(verifier.verify(b"{}", sign("other", b"{}")).is_err());
    /// # Ok::<(), foxreach_webhooks::SecretError>(())
    /// ```
    pub fn from_secrets<I>(secrets: I) -> Result<Self, SecretError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let keys = secrets
            .into_iter()
            .map(|secret| match secret.as_ref() {
                [] => Err(SecretError::Empty),
                secret => Ok(Key::new(secret)),
            })
            .collect::<Result<Arc<[Key]>, _>>()?;
        if keys.is_empty() {
            return Err(SecretError::NoSecrets);
        }
        Ok(Self { keys })
    }

    /// Checks that `signature` (the `X-Webhook-Signature` value) is the
    /// HMAC-SHA256 of `body` under one of this verifier's secrets.
    ///
    /// `body` must be the raw request body exactly as received. Hex digits of
    /// either case are accepted. The MAC comparison takes the same time
    /// wherever the first differing byte is, and every secret is tried, so
    /// timing reveals neither the expected MAC nor which secret matched.
    ///
    /// # Errors
    ///
    /// [`VerifyError::Missing`] for an empty signature,
    /// [`VerifyError::Malformed`] unless it is exactly 64 hex digits,
    /// [`VerifyError::Mismatch`] if no secret produced it over `body`.
    pub fn verify(&self, body: &[u8], signature: impl AsRef<[u8]>) -> Result<(), VerifyError> {
        verify_with(&self.keys, body, signature.as_ref())
    }

    /// As [`verify`](Self::verify), returning the MAC of `body` under the
    /// first secret, which identifies the delivery whichever secret signed
    /// it: during a rotation, FoxReach's two webhooks send the same body
    /// under two secrets, and both copies get this one key. It costs
    /// nothing: every secret's MAC is computed anyway, so that timing does
    /// not tell which one matched.
    #[cfg(any(feature = "tower", feature = "delivery"))]
    pub(crate) fn delivery_mac(&self, body: &[u8], signature: &[u8]) -> Result<[u8; 32], VerifyError> {
        check(&self.keys, body, signature)
    }

    /// The signature FoxReach would send for `body`, as lowercase hex, made
    /// with the first secret. Useful for tests and for local senders.
    #[must_use]
    pub fn sign(&self, body: &[u8]) -> String {
        encode(&self.keys[0], body)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier").field("secrets", &format_args!("[redacted; {}]", self.keys.len())).finish()
    }
}

/// The check shared by [`Verifier::verify`] and the free [`verify`](super::verify).
pub(super) fn verify_with(keys: &[Key], body: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    check(keys, body, signature).map(|_| ())
}

/// Compares `signature` with every key's MAC over `body` (all of them, so
/// that timing does not tell which matched), returning the first key's MAC.
fn check(keys: &[Key], body: &[u8], signature: &[u8]) -> Result<[u8; 32], VerifyError> {
    let digits = digits(signature)?;
    let (first, others) = keys.split_first().ok_or(VerifyError::EmptySecret)?;
    let first = first.mac(body);
    let mut matched = is_hex_of(digits, &first);
    for key in others {
        matched |= is_hex_of(digits, &key.mac(body));
    }
    match bool::from(matched) {
        true => Ok(first),
        false if is_hex(digits) => Err(VerifyError::Mismatch),
        false => Err(malformed(signature)),
    }
}

/// The signature header's value as its 64 digits, not yet known to be hex.
fn digits(signature: &[u8]) -> Result<&[u8; MAC_HEX_LEN], VerifyError> {
    match signature {
        [] => Err(VerifyError::Missing),
        _ => signature.try_into().map_err(|_| malformed(signature)),
    }
}

fn malformed(signature: &[u8]) -> VerifyError {
    VerifyError::Malformed { length: signature.len(), shape: SignatureShape::of(signature) }
}

/// Refuses what verification would refuse whatever the secret: an empty
/// signature, or one that is not 64 hex digits.
///
/// # Errors
///
/// [`VerifyError::Missing`] for an empty value, [`VerifyError::Malformed`]
/// (with the shape of the usual mistake) for anything but 64 hex digits.
#[cfg(all(feature = "delivery", feature = "tower"))]
pub(crate) fn check_shape(signature: &[u8]) -> Result<(), VerifyError> {
    match is_hex(digits(signature)?) {
        true => Ok(()),
        false => Err(malformed(signature)),
    }
}

/// Lowercase hex of `key`'s MAC over `body`, as FoxReach writes it.
pub(super) fn encode(key: &Key, body: &[u8]) -> String {
    hex::encode(key.mac(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tenant path refuses these before it looks a secret up.
    #[test]
    #[cfg(all(feature = "delivery", feature = "tower"))]
    fn the_shape_is_checked_without_a_secret() {
        let hex = "3092136086231f1a605e3dc6a07e21ceba78141f487068a3ed0bae77d1d678e6";
        assert_eq!(check_shape(hex.as_bytes()), Ok(()));
        assert_eq!(check_shape(hex.to_uppercase().as_bytes()), Ok(()));
        assert_eq!(check_shape(b""), Err(VerifyError::Missing));
        for bad in [&hex[..63], "z".repeat(64).as_str(), &format!("sha256={hex}")] {
            assert!(matches!(check_shape(bad.as_bytes()), Err(VerifyError::Malformed { .. })), "{bad}");
        }
    }

    #[test]
    fn is_send_sync_and_cheap_to_share() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync::<Verifier>();
    }

    #[test]
    #[cfg(any(feature = "tower", feature = "delivery"))]
    fn the_delivery_mac_is_the_first_secrets_whichever_signed() {
        let verifier = Verifier::from_secrets(["old-secret", "new-secret"]).expect("secrets are not empty");
        let body = b"{}";
        let first = hex::decode(super::super::sign("old-secret", body)).expect("hex");
        for secret in ["new-secret", "old-secret"] {
            let signature = super::super::sign(secret, body);
            assert_eq!(verifier.delivery_mac(body, signature.as_bytes()).map(Vec::from), Ok(first.clone()));
            let upper = signature.to_uppercase();
            assert_eq!(verifier.delivery_mac(body, upper.as_bytes()).map(Vec::from), Ok(first.clone()));
        }
        let forged = super::super::sign("other-secret", body);
        assert_eq!(verifier.delivery_mac(body, forged.as_bytes()), Err(VerifyError::Mismatch));
    }

    #[test]
    fn debug_shows_the_count_and_never_the_secret() {
        let verifier = Verifier::from_secrets(["hunter2-secret", "other-secret"]).expect("secrets are not empty");
        let debug = format!("{verifier:?}");
        assert_eq!(debug, "Verifier { secrets: [redacted; 2] }");
    }
}
