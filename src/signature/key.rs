//! HMAC-SHA256 (RFC 2104) with the key schedule done once.
//!
//! `hmac::Hmac<Sha256>` can be keyed once and cloned per message, but the
//! clone, its block buffer and its finalization cost about a third of the
//! whole verification of a small FoxReach body. Here the two padded key
//! blocks are compressed once, at construction, and a message costs exactly
//! the SHA-256 compressions HMAC requires: its own blocks plus padding, and
//! one block for the outer hash. The property tests check this against the
//! `hmac` crate for arbitrary keys and messages.

use sha2::block_api::compress256;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

/// SHA-256's block size in bytes.
const BLOCK: usize = 64;

/// SHA-256's initial hash value (FIPS 180-4, section 5.3.3).
const IV: [u32; 8] =
    [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19];

/// An HMAC-SHA256 key whose inner and outer padded blocks are already
/// absorbed. It is as sensitive as the secret itself, so it is wiped on drop
/// and never printed.
#[derive(Clone)]
pub(crate) struct Key {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl Key {
    pub(crate) fn new(secret: &[u8]) -> Self {
        // RFC 2104: a key longer than the block is replaced by its hash.
        let mut block = [0u8; BLOCK];
        if secret.len() > BLOCK {
            block[..32].copy_from_slice(&Sha256::digest(secret));
        } else {
            block[..secret.len()].copy_from_slice(secret);
        }
        let key = Self { inner: absorb_padded(&block, 0x36), outer: absorb_padded(&block, 0x5c) };
        block.zeroize();
        key
    }

    /// The MAC of `message`, as SHA-256 state words (big-endian order).
    pub(crate) fn mac(&self, message: &[u8]) -> [u32; 8] {
        let mut state = self.inner;
        let (blocks, rest) = message.as_chunks::<BLOCK>();
        compress256(&mut state, blocks);

        // The inner hash has already absorbed one block of key.
        let bits = (BLOCK as u64 + message.len() as u64) * 8;
        let mut tail = [0u8; 2 * BLOCK];
        tail[..rest.len()].copy_from_slice(rest);
        tail[rest.len()] = 0x80;
        let tail_len = if rest.len() < BLOCK - 8 { BLOCK } else { 2 * BLOCK };
        tail[tail_len - 8..tail_len].copy_from_slice(&bits.to_be_bytes());
        compress256(&mut state, tail[..tail_len].as_chunks::<BLOCK>().0);

        let mut block = [0u8; BLOCK];
        for (bytes, word) in block.as_chunks_mut::<4>().0.iter_mut().zip(state) {
            *bytes = word.to_be_bytes();
        }
        block[32] = 0x80;
        block[BLOCK - 8..].copy_from_slice(&((BLOCK as u64 + 32) * 8).to_be_bytes());
        let mut mac = self.outer;
        compress256(&mut mac, &[block]);
        mac
    }
}

/// The SHA-256 state after absorbing `key_block` XOR `pad`.
fn absorb_padded(key_block: &[u8; BLOCK], pad: u8) -> [u32; 8] {
    let mut padded = key_block.map(|b| b ^ pad);
    let mut state = IV;
    compress256(&mut state, &[padded]);
    padded.zeroize();
    state
}

impl Drop for Key {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_hmac_crate_at_every_padding_edge() {
        // A 64-byte key is used as is; a 65-byte key is hashed first. Both edges
        // of the tail padding (55 and 56 bytes left over) are exercised too.
        for key_len in [0usize, 1, 63, 64, 65, 200] {
            let key = vec![0x4b; key_len];
            for msg_len in [0usize, 1, 55, 56, 63, 64, 119, 120, 128, 1000] {
                let message = vec![0xa5; msg_len];
                let expected = reference_hmac(&key, &message);
                assert_eq!(Key::new(&key).mac(&message), expected, "key {key_len}, message {msg_len}");
            }
        }
    }

    /// The RustCrypto `hmac` crate, the reference this module must agree with.
    fn reference_hmac(key: &[u8], message: &[u8]) -> [u32; 8] {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(message);
        let bytes = mac.finalize().into_bytes();
        std::array::from_fn(|i| u32::from_be_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes")))
    }
}
