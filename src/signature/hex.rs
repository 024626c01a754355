//! The signature header's 64 hex digits, compared without decoding them.
//!
//! Everywhere else this crate reads and writes hex with the `hex` crate. On
//! the verify hot path, decoding the header with it and comparing the bytes
//! cost 11% more than this module on a 1 KiB body, and 45% on a 64-byte one
//! (`Verifier::verify` at 1.27-1.29x of plain SHA-256 against 1.15x, and
//! 2.9-3.0x against 2.0x; `cargo bench --bench verify`, both builds in one run,
//! see PERFORMANCE.md). So the expected MAC is encoded as lowercase hex eight
//! digits at a time with word arithmetic (SWAR: no table, no branch, so
//! constant-time in the secret MAC), and compared with the header folded to
//! lowercase, one 64-bit word per eight digits, the difference reduced by
//! `subtle`. Every byte is processed the same way, so the instruction count
//! depends on neither value. The proptests hold it to the `hex` crate.

use subtle::{Choice, ConstantTimeEq};

/// The number of hex digits in a FoxReach signature.
pub(crate) const MAC_HEX_LEN: usize = 64;

/// `0x01` in every byte, to broadcast a byte constant over a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte.
const HIGH: u64 = 0x80 * ONES;

/// Whether `header` is the hex of `mac` (digits of either case), in constant
/// time: one `Choice` from the OR of every word's difference.
pub(crate) fn is_hex_of(header: &[u8; MAC_HEX_LEN], mac: &[u8; 32]) -> Choice {
    // Straight passes over arrays, which the compiler turns into vector code.
    let chars: [u64; 8] = std::array::from_fn(|i| u64::from_be_bytes(header.as_chunks::<8>().0[i]));
    let expected: [u64; 8] = std::array::from_fn(|i| lower_hex(u32::from_be_bytes(mac.as_chunks::<4>().0[i])));
    let mut difference = 0;
    for (&chars, &expected) in chars.iter().zip(&expected) {
        // Setting bit 5 folds 'A'..='F' onto 'a'..='f' and leaves digits as
        // they are; it also folds control bytes 0x10..=0x19 onto digits, which
        // the second term rejects (they are the only bytes with bits 5 and 6
        // clear that can match).
        let folded = chars | (0x20 * ONES);
        let control = !((chars & (0x60 * ONES)) + 0x60 * ONES) & HIGH;
        difference |= (folded ^ expected) | control;
    }
    difference.ct_eq(&0)
}

/// Whether every byte is a hex digit: the strict check that tells a malformed
/// header from a mismatched one. It reads only the public header, but it is
/// branch-free all the same, so that the time of a refusal does not depend on
/// which digits the header has (a statistical timing test cannot tell public
/// from secret).
pub(crate) fn is_hex(header: &[u8; MAC_HEX_LEN]) -> bool {
    // Per byte below 0x80 (no carry crosses into the next byte): the high bit
    // of `x + (0x80 - lo)` is set iff x >= lo.
    let at_least = |x: u64, lo: u8| x + (0x80 - u64::from(lo)) * ONES;
    let in_range = |x: u64, lo: u8, hi: u8| at_least(x, lo) & !at_least(x, hi + 1) & HIGH;
    let invalid = header.as_chunks::<8>().0.iter().fold(0, |invalid, &chars| {
        let chars = u64::from_be_bytes(chars);
        let ascii = chars & !HIGH;
        let digit = in_range(ascii, b'0', b'9');
        let letter = in_range(ascii | (0x20 * ONES), b'a', b'f');
        invalid | (chars & HIGH) | (!(digit | letter) & HIGH)
    });
    invalid == 0
}

/// The eight lowercase hex digits of `word`, most significant first, as the
/// bytes of a big-endian word.
fn lower_hex(word: u32) -> u64 {
    // Spread the eight nibbles into the low halves of eight bytes.
    let spread = u64::from(word);
    let spread = (spread | spread << 16) & 0x0000_ffff_0000_ffff;
    let spread = (spread | spread << 8) & 0x00ff_00ff_00ff_00ff;
    let nibbles = (spread | spread << 4) & 0x0f0f_0f0f_0f0f_0f0f;
    // A nibble of 10 or more gets the high bit when 0x76 is added: a letter,
    // which needs 39 more than a digit ('a' is '0' + 49). The high bit, less
    // itself shifted down, masks 0x7f over each letter's byte.
    let letters = (nibbles + 0x76 * ONES) & HIGH;
    nibbles + b'0' as u64 * ONES + ((letters - (letters >> 7)) & (39 * ONES))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(mac: &[u8; 32]) -> [u8; MAC_HEX_LEN] {
        let mut digits = [0u8; MAC_HEX_LEN];
        hex::encode_to_slice(mac, &mut digits).expect("64 digits for 32 bytes");
        digits
    }

    proptest! {

        /// Headers of mostly hex digits of both cases, with the odd stray
        /// byte, match exactly when the `hex` crate decodes them to the MAC.
        #[test]
        fn matches_exactly_what_decodes_to_the_mac(
            bytes in proptest::array::uniform32(any::<u8>()),
            changes in proptest::collection::vec((0..MAC_HEX_LEN, prop_oneof![
                4 => proptest::sample::select(b"0123456789abcdefABCDEF".to_vec()),
                1 => any::<u8>(),
            ]), 0..3),
            upper in any::<bool>(),
        ) {
            let mut header = encode(&bytes);
            if upper {
                header.make_ascii_uppercase();
            }
            for (position, byte) in changes {
                header[position] = byte;
            }
            let decodes_to_mac = hex::decode(header).is_ok_and(|decoded| decoded == bytes);
            prop_assert_eq!(bool::from(is_hex_of(&header, &bytes)), decodes_to_mac);
        }
    }

    /// The check folds each 8-byte word's bad lanes into what the words
    /// before it found: a second stray in the same lane must not undo the
    /// first, whatever the stray (a byte with the high bit set whose low
    /// seven bits are a digit, a letter past `f`).
    #[test]
    fn two_strays_in_the_same_lane_of_two_words_are_both_seen() {
        let header = encode(&[0x5a; 32]);
        for stray in [0xb0_u8, 0xc1, b'g', 0xff] {
            for position in 0..8 {
                let mut changed = header;
                changed[position] = stray;
                changed[position + 8] = stray;
                assert!(!is_hex(&changed), "{stray:#04x} at {position} and {}", position + 8);
            }
        }
    }

    #[test]
    fn every_byte_value_in_every_position() {
        let mac: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(0x4f) ^ 0xa5);
        let header = encode(&mac);
        for position in 0..MAC_HEX_LEN {
            for byte in 0..=255u8 {
                let mut changed = header;
                changed[position] = byte;
                let same_digit = byte.eq_ignore_ascii_case(&header[position]);
                assert_eq!(bool::from(is_hex_of(&changed, &mac)), same_digit, "byte {byte:#04x} at {position}");
                assert_eq!(is_hex(&changed), byte.is_ascii_hexdigit(), "byte {byte:#04x} at {position}");
            }
        }
    }
}
