//! The signature parser and verifier: for any secret, body and header, what is
//! signed verifies, and any other header for that body fails.
#![no_main]

use arbitrary::Arbitrary;
use foxreach_webhooks::{Verifier, VerifyError, sign, verify};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    secret: &'a [u8],
    body: &'a [u8],
    header: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let Input { secret, body, header } = input;
    if secret.is_empty() {
        assert_eq!(verify(secret, body, header), Err(VerifyError::EmptySecret));
        return;
    }
    let signature = sign(secret, body);
    let verifier = Verifier::new(secret).expect("the secret is not empty");
    assert_eq!(verify(secret, body, &signature), Ok(()));
    assert_eq!(verifier.verify(body, &signature), Ok(()));
    assert_eq!(verifier.verify(body, signature.to_ascii_uppercase()), Ok(()));

    // Any other header: accepted exactly when it is the signature in another case.
    let result = verifier.verify(body, header);
    assert_eq!(result, verify(secret, body, header));
    assert_eq!(result.is_ok(), header.eq_ignore_ascii_case(signature.as_bytes()), "{header:?}");
    match result {
        Err(VerifyError::Missing) => assert!(header.is_empty()),
        Err(VerifyError::Malformed { length, .. }) => assert_eq!(length, header.len()),
        _ => {}
    }
});
