//! HMAC-SHA256 (RFC 2104), keyed once per secret.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// An HMAC-SHA256 key with its inner and outer padded blocks already
/// absorbed (RustCrypto `hmac` does that in `new_from_slice`), cloned for
/// each message. It is as sensitive as the secret itself: never printed,
/// and wiped on drop by `sha2`'s `zeroize` feature, which this crate
/// turns on for exactly that reason.
#[derive(Clone)]
pub(crate) struct Key(Hmac<Sha256>);

impl Key {
    pub(crate) fn new(secret: &[u8]) -> Self {
        Self(<Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length"))
    }

    /// The MAC of `message`: the 32 bytes FoxReach sends as 64 hex digits.
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = self.0.clone();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keyed states live in `sha2`'s block cores: if the `zeroize`
    /// feature that wipes them on drop were ever turned off, this would no
    /// longer compile.
    #[test]
    fn the_keyed_states_are_wiped_on_drop() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<sha2::block_api::Sha256VarCore>();
    }

    #[test]
    fn keys_longer_than_a_block_are_hashed_first() {
        // RFC 2104: a key over 64 bytes is replaced by its SHA-256.
        use sha2::Digest;
        let long = [0x4b_u8; 65];
        assert_eq!(Key::new(&long).mac(b"body"), Key::new(&Sha256::digest(long)).mac(b"body"));
        assert_ne!(Key::new(&long[..64]).mac(b"body"), Key::new(&long).mac(b"body"));
    }
}
