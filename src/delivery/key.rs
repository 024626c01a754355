//! What identifies a delivery, for telling a duplicate from a new one.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::signature::hex::is_hex;

/// The identity of a delivery: the 32 bytes of its verified signature.
///
/// FoxReach sends no delivery id, but a duplicate carries the same body and
/// therefore the same HMAC, so the MAC the signature header already holds
/// identifies the delivery at no extra cost. It is public (it travelled in a
/// header) and unforgeable without the secret, so it is safe to store, and a
/// sender cannot choose keys to collide.
///
/// One caveat: during a secret rotation, a retry signed with the other secret
/// has another MAC, so a delivery retried across the switch is processed once
/// per secret. Process idempotently where that matters.
///
/// # Example
///
/// ```
/// use foxreach_webhooks::delivery::DeliveryKey;
///
/// let signature = foxreach_webhooks::sign("secret", b"{}");
/// let key = DeliveryKey::from_signature(&signature).expect("64 hex digits");
/// assert_eq!(key.to_string(), signature);
/// assert_eq!(DeliveryKey::from_signature(&signature.to_uppercase()), Some(key));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryKey([u8; 32]);

impl DeliveryKey {
    /// A key made of these 32 bytes.
    #[must_use]
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key of the delivery this `X-Webhook-Signature` value signed: its 64
    /// hex digits (either case) decoded. `None` if it is not 64 hex digits,
    /// which a verified signature always is.
    #[must_use]
    pub fn from_signature(signature: &str) -> Option<Self> {
        let digits = <&[u8; 64]>::try_from(signature.as_bytes()).ok()?;
        if !is_hex(digits) {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (four, eight) in bytes.as_chunks_mut::<4>().0.iter_mut().zip(digits.as_chunks::<8>().0) {
            *four = decode_eight(u64::from_be_bytes(*eight)).to_be_bytes();
        }
        Some(Self(bytes))
    }

    /// A key for a body without a usable signature: its SHA-256. Costs a
    /// hash of the body, which [`from_signature`](Self::from_signature) does not.
    #[must_use]
    pub fn of_body(body: &[u8]) -> Self {
        Self(Sha256::digest(body).into())
    }

    /// The key's bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Eight hex digits (checked already), as the bytes of a big-endian word,
/// decoded eight at a time with word arithmetic: this runs on every
/// delivery, and a digit-by-digit decode cost as much as the duplicate check.
fn decode_eight(digits: u64) -> u32 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A digit's value is its low nibble, plus 9 for a letter (bit 6 set).
    let values = (digits & (0x0f * ONES)) + ((digits >> 6) & ONES) * 9;
    // Pack the eight nibbles into four bytes, pairs first.
    let pairs = (values | values >> 4) & 0x00ff_00ff_00ff_00ff;
    let quads = (pairs | pairs >> 8) & 0x0000_ffff_0000_ffff;
    ((quads | quads >> 16) & 0xffff_ffff) as u32
}

/// Lowercase hex, as FoxReach writes the signature.
impl fmt::Display for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

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
    fn a_body_key_is_its_sha256() {
        let key = DeliveryKey::of_body(b"abc");
        assert_eq!(key.to_string(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
