//! Decoding the signature header's 64 hex digits.
//!
//! The `hex` crate's decoder branches on every digit; this one looks each
//! digit up in a table and checks validity once at the end, so the hot path
//! runs the same instructions whatever the digits are (the valgrind check
//! relies on that). The header is public, so only the comparison that follows
//! has to be constant-time; this is about speed and a steady instruction count.

/// The number of hex digits in a FoxReach signature.
pub(crate) const MAC_HEX_LEN: usize = 64;

/// Digit value by byte, or `0xff` for a byte that is not a hex digit.
const NIBBLE: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decodes 64 hex digits of either case into the 32 MAC bytes, or `None` if
/// any byte is not a hex digit.
pub(crate) fn decode_mac(digits: &[u8; MAC_HEX_LEN]) -> Option<[u8; 32]> {
    let mut mac = [0u8; 32];
    let mut invalid = 0u8;
    for (byte, pair) in mac.iter_mut().zip(digits.as_chunks::<2>().0) {
        let high = NIBBLE[usize::from(pair[0])];
        let low = NIBBLE[usize::from(pair[1])];
        invalid |= high | low;
        *byte = (high << 4) | (low & 0x0f);
    }
    (invalid & 0xf0 == 0).then_some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        // Mostly hex digits of both cases, with the odd stray byte.
        fn agrees_with_the_hex_crate(digits in proptest::collection::vec(prop_oneof![
            8 => proptest::sample::select(b"0123456789abcdefABCDEF".to_vec()),
            1 => any::<u8>(),
        ], MAC_HEX_LEN)) {
            let digits: [u8; MAC_HEX_LEN] = digits.try_into().expect("the strategy makes 64 bytes");
            let expected = hex::decode(digits).ok().map(|v| <[u8; 32]>::try_from(v).expect("64 digits are 32 bytes"));
            prop_assert_eq!(decode_mac(&digits), expected);
        }
    }
}
