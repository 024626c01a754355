//! `Verifier::from_env`, in a child process of this test binary, since
//! setting a variable in this one would need `unsafe` (edition 2024).

use std::process::Command;

use foxreach_webhooks::{SecretError, Verifier, sign};

const CHILD: &str = "FOXREACH_TEST_FROM_ENV_CHILD";

/// Runs `in_a_child_process` again in a child with the variables set.
#[test]
fn a_secret_from_the_environment_is_trimmed_and_says_so() {
    let output = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", "in_a_child_process", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("FOXREACH_TEST_SECRET_NEWLINE", "the-webhook-secret\n")
        .env("FOXREACH_TEST_SECRET_EXACT", "the-webhook-secret")
        .env("FOXREACH_TEST_SECRET_PADDED", "  the-webhook-secret\r\n")
        .env("FOXREACH_TEST_SECRET_BLANK", " \r\n")
        .env("FOXREACH_TEST_SECRET_NOT_UTF8", not_utf8())
        .env_remove("FOXREACH_TEST_SECRET_UNSET")
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 passed"), "the child ran the checks: {stdout}");
}

/// A value that is not UTF-8 (on Unix, where variables are bytes).
fn not_utf8() -> std::ffi::OsString {
    #[cfg(unix)]
    return std::os::unix::ffi::OsStringExt::from_vec(vec![b's', 0xff, b'x']);
    #[cfg(not(unix))]
    return "unused".into();
}

#[test]
fn in_a_child_process() {
    if std::env::var_os(CHILD).is_none() {
        return; // run by the test above, with the variables it sets
    }
    let body = b"{}";
    let built = Verifier::from_env("FOXREACH_TEST_SECRET_NEWLINE").expect("a secret");
    let trimmed = built.trimmed.expect("the newline is reported");
    assert_eq!(trimmed.removed(), 1);
    let warning = trimmed.to_string();
    assert!(warning.starts_with("FOXREACH_TEST_SECRET_NEWLINE had 1 byte(s) of whitespace"), "{warning}");
    assert!(!warning.contains("the-webhook-secret"), "never the secret: {warning}");
    assert!(built.verifier.verify(body, sign("the-webhook-secret", body)).is_ok(), "verifies without the newline");

    let padded = Verifier::from_env("FOXREACH_TEST_SECRET_PADDED").expect("a secret");
    assert_eq!(padded.trimmed.map(|trimmed| trimmed.removed()), Some(4), "both ends, counted in bytes");
    assert!(padded.verifier.verify(body, sign("the-webhook-secret", body)).is_ok());

    let exact = Verifier::from_env("FOXREACH_TEST_SECRET_EXACT").expect("a secret");
    assert!(exact.trimmed.is_none());

    let blank = Verifier::from_env("FOXREACH_TEST_SECRET_BLANK").unwrap_err();
    assert_eq!(blank, SecretError::EnvEmpty { name: "FOXREACH_TEST_SECRET_BLANK" });
    assert!(blank.to_string().starts_with("FOXREACH_TEST_SECRET_BLANK is empty"), "{blank}");
    #[cfg(unix)]
    assert_eq!(
        Verifier::from_env("FOXREACH_TEST_SECRET_NOT_UTF8").unwrap_err(),
        SecretError::EnvNotUnicode { name: "FOXREACH_TEST_SECRET_NOT_UTF8" }
    );
    let unset = Verifier::from_env("FOXREACH_TEST_SECRET_UNSET").unwrap_err();
    assert_eq!(unset, SecretError::EnvUnset { name: "FOXREACH_TEST_SECRET_UNSET" });
    assert!(unset.to_string().starts_with("FOXREACH_TEST_SECRET_UNSET is not set"), "{unset}");
    // `new` stays byte-exact: RFC 4231's first key is twenty 0x0b bytes, whitespace included.
    let rfc4231 = Verifier::new([0x0b; 20]).expect("not empty");
    assert_eq!(
        rfc4231.sign(b"Hi There"),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        "RFC 4231 test case 1"
    );
}
