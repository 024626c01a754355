//! A statistical constant-time test (dudect): the timing of
//! `Verifier::verify` for a signature whose first MAC byte is wrong against
//! one whose last byte is wrong, interleaved at random. A |t| above 5 would
//! point at a leak. The control, a naive early-exit comparison, shows that
//! this machine's timer can see one.
//!
//! ```text
//! cargo run --release -p foxreach-webhooks-harness --bin dudect
//! ```
//!
//! Not a CI gate: timings on a shared machine are noisy. The gate is the
//! instruction count in `.ci/constant-time`.

use dudect_bencher::{BenchRng, Class, CtRunner, ctbench_main};
use foxreach_webhooks::Verifier;

const SECRET: &str = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6a7b8c9d0e1f2";
const BODY: &[u8] =
    br#"{"event":"campaign.started","timestamp":"2025-01-15T09:00:00Z","data":{"campaignId":"cmp_456"}}"#;
const SAMPLES: usize = 200_000;

/// Signatures for `BODY` with the first and with the last MAC digit changed.
fn mismatches(verifier: &Verifier) -> (Vec<u8>, Vec<u8>) {
    let signature = verifier.sign(BODY).into_bytes();
    let flip = |mut signature: Vec<u8>, at: usize| {
        signature[at] = if signature[at] == b'0' { b'1' } else { b'0' };
        signature
    };
    (flip(signature.clone(), 0), flip(signature, 63))
}

/// The class of each sample, left or right at random (xorshift64).
fn classes() -> impl Iterator<Item = Class> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    std::iter::repeat_with(move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if state & 1 == 0 { Class::Left } else { Class::Right }
    })
    .take(SAMPLES)
}

/// Times `check` on the first-byte (left) and last-byte (right) mismatch.
/// Both are copied into the same buffer before each sample, outside the timed
/// part, so that the two classes differ only in the digit changed, not in
/// where the bytes sit in memory.
fn first_vs_last_byte(runner: &mut CtRunner, check: impl Fn(&[u8]) -> bool) {
    let verifier = Verifier::new(SECRET).expect("not empty");
    let (first, last) = mismatches(&verifier);
    let inputs = [&first, &last];
    let mut signature = first.clone();
    for class in classes() {
        // Picked by index, not by a branch: a branch on the class just before
        // the timer starts would itself time differently for the two classes.
        signature.copy_from_slice(inputs[usize::from(matches!(class, Class::Right))]);
        runner.run_one(class, || check(&signature));
    }
}

fn verify_first_vs_last_byte(runner: &mut CtRunner, _: &mut BenchRng) {
    let verifier = Verifier::new(SECRET).expect("not empty");
    first_vs_last_byte(runner, |signature| verifier.verify(BODY, signature).is_ok());
}

/// The same first-byte mismatch in both classes: what |t| this harness and
/// this machine show when there is no difference at all.
fn verify_same_input_in_both_classes(runner: &mut CtRunner, _: &mut BenchRng) {
    let verifier = Verifier::new(SECRET).expect("not empty");
    let (first, _) = mismatches(&verifier);
    let mut signature = first.clone();
    for class in classes() {
        signature.copy_from_slice(&first);
        runner.run_one(class, || verifier.verify(BODY, &signature).is_ok());
    }
}

fn control_naive_first_vs_last_byte(runner: &mut CtRunner, _: &mut BenchRng) {
    let expected = Verifier::new(SECRET).expect("not empty").sign(BODY).into_bytes();
    first_vs_last_byte(runner, |signature| expected.iter().zip(signature).all(|(a, b)| a == b));
}

ctbench_main!(verify_first_vs_last_byte, verify_same_input_in_both_classes, control_naive_first_vs_last_byte);
