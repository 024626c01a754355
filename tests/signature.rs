//! The signature API against FoxReach's vectors, RFC 4231 and key rotation.

use foxreach_webhooks::{SecretError, Verifier, VerifyError, sign, verify};
use serde_json::Value;

const VECTORS: &str = include_str!("fixtures/vectors.json");

fn cases(group: &str) -> Vec<(String, String, String, String, String)> {
    let vectors: Value = serde_json::from_str(VECTORS).expect("vectors.json is JSON");
    let cases = vectors[group].as_array().expect("a list of cases");
    assert!(!cases.is_empty(), "no {group} vectors");
    cases
        .iter()
        .map(|case| {
            let field = |name: &str| case[name].as_str().unwrap_or_default().to_owned();
            (field("name"), field("secret"), field("body"), field("signature"), field("why"))
        })
        .collect()
}

#[test]
fn every_valid_vector_verifies_through_both_apis_and_signs_the_same() {
    for (name, secret, body, signature, _) in cases("valid") {
        assert_eq!(verify(&secret, body.as_bytes(), &signature), Ok(()), "{name}");
        let verifier = Verifier::new(&secret).expect("vector secrets are not empty");
        assert_eq!(verifier.verify(body.as_bytes(), &signature), Ok(()), "{name}");
        assert_eq!(verifier.verify(body.as_bytes(), signature.to_uppercase()), Ok(()), "{name}, upper case");
        assert_eq!(sign(&secret, body.as_bytes()), signature, "{name}");
        assert_eq!(verifier.sign(body.as_bytes()), signature, "{name}");
    }
}

#[test]
fn every_invalid_vector_is_rejected_for_its_reason() {
    for (name, secret, body, signature, why) in cases("invalid") {
        let verifier = Verifier::new(&secret).expect("vector secrets are not empty");
        for result in [verify(&secret, body.as_bytes(), &signature), verifier.verify(body.as_bytes(), &signature)] {
            let err = result.expect_err(&name);
            let expected = match why.as_str() {
                "tampered" | "mismatch" => matches!(err, VerifyError::Mismatch),
                "missing or malformed" => matches!(err, VerifyError::Missing | VerifyError::Malformed { .. }),
                why if why.starts_with("malformed") => matches!(err, VerifyError::Malformed { .. }),
                why => panic!("{name}: unknown reason {why:?} in vectors.json"),
            };
            assert!(expected, "{name}: expected {why}, got {err:?}");
        }
    }
}

#[test]
fn rfc_4231_hmac_sha256_test_cases() {
    let key_aa_131 = [0xaa; 131];
    let cases: [(&[u8], &[u8], &str); 7] = [
        (&[0x0b; 20], b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (b"Jefe", b"what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (&[0xaa; 20], &[0xdd; 50], "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25],
            &[0xcd; 50],
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        ),
        // Test case 5 publishes only the first 128 bits of the MAC.
        (&[0x0c; 20], b"Test With Truncation", "a3b6167473100ee06e0c796c2955552b"),
        (
            &key_aa_131,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
        (
            &key_aa_131,
            b"This is a test using a larger than block-size key and a larger than block-size data. \
              The key needs to be hashed before being used by the HMAC algorithm.",
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        ),
    ];
    for (number, (key, data, expected)) in (1..).zip(cases) {
        let signature = sign(key, data);
        assert!(signature.starts_with(expected), "test case {number}: {signature}");
        assert_eq!(verify(key, data, &signature), Ok(()), "test case {number}");
        let verifier = Verifier::new(key).expect("RFC 4231 keys are not empty");
        assert_eq!(verifier.verify(data, &signature), Ok(()), "test case {number}");
    }
}

#[test]
fn rotation_accepts_either_secret_and_no_third() {
    let body = br#"{"event":"lead.created","timestamp":"2025-01-14T08:00:00Z","data":{"leadId":"cld_789"}}"#;
    let verifier = Verifier::from_secrets(["old-secret", "new-secret"]).expect("secrets are not empty");
    assert_eq!(verifier.verify(body, sign("new-secret", body)), Ok(()));
    assert_eq!(verifier.verify(body, sign("old-secret", body)), Ok(()));
    assert_eq!(verifier.verify(body, sign("third-secret", body)), Err(VerifyError::Mismatch));
    assert_eq!(verifier.sign(body), sign("old-secret", body), "signs with the first secret");
}

#[test]
fn an_empty_secret_never_verifies() {
    let body = b"{}";
    assert_eq!(verify("", body, sign("", body)), Err(VerifyError::EmptySecret));
    assert_eq!(verify(b"", body, "zz"), Err(VerifyError::EmptySecret));
    assert_eq!(Verifier::new("").unwrap_err(), SecretError::Empty);
    assert_eq!(Verifier::from_secrets(["fine", ""]).unwrap_err(), SecretError::Empty);
    assert_eq!(Verifier::from_secrets(Vec::<&str>::new()).unwrap_err(), SecretError::NoSecrets);
}

#[test]
fn malformed_headers_say_what_is_wrong_without_echoing_them() {
    let body = b"{}";
    let mac = sign("s", body);
    let prefixed = format!("sha256={mac}");
    let err = verify("s", body, &prefixed).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("expected 64 hex digits, got 71 bytes"), "{message}");
    assert!(message.contains("no prefix"), "{message}");
    assert!(!message.contains(&mac[..16]), "{message}");

    assert_eq!(verify("s", body, ""), Err(VerifyError::Missing));
    let mismatch = verify("s", body, sign("t", body)).unwrap_err().to_string();
    assert!(mismatch.contains("raw request body") && mismatch.contains("not hex-decoded"), "{mismatch}");
}
