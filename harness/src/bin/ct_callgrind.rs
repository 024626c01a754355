//! The harness `.ci/constant-time` runs under `valgrind --tool=callgrind`,
//! counting instructions only inside `verify_once` (and what it calls).
//!
//! ```text
//! ct_callgrind <crate|naive> <first|last|valid> <calls>
//! ```
//!
//! `first` and `last` send a signature whose first or last MAC byte is
//! wrong; `valid` sends the right one. `crate` verifies with
//! `Verifier::verify`; `naive` with an early-exit comparison of the hex
//! strings, the control that shows the check can fail.

use std::hint::black_box;
use std::process::ExitCode;

use foxreach_webhooks::Verifier;

const SECRET: &str = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6a7b8c9d0e1f2";
const BODY: &[u8] =
    br#"{"event":"campaign.started","timestamp":"2025-01-15T09:00:00Z","data":{"campaignId":"cmp_456"}}"#;

#[inline(never)]
fn verify_once(verifier: &Verifier, naive: bool, body: &[u8], signature: &[u8]) -> bool {
    if naive {
        // Compares digit by digit and stops at the first difference: what not to do.
        let expected = verifier.sign(body);
        expected.len() == signature.len() && expected.bytes().zip(signature).all(|(a, &b)| a == b)
    } else {
        verifier.verify(body, signature).is_ok()
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [implementation, case, calls] = args.as_slice() else {
        eprintln!("usage: ct_callgrind <crate|naive> <first|last|valid> <calls>");
        return ExitCode::from(2);
    };
    let Ok(calls) = calls.parse::<usize>() else {
        eprintln!("calls must be a number");
        return ExitCode::from(2);
    };
    let verifier = Verifier::new(SECRET).expect("the secret is not empty");
    let mut signature = verifier.sign(BODY).into_bytes();
    // Change one digit of the first or the last MAC byte to another hex digit.
    let flip = |digit: &mut u8| *digit = if *digit == b'0' { b'1' } else { b'0' };
    match case.as_str() {
        "first" => flip(&mut signature[0]),
        "last" => flip(&mut signature[63]),
        "valid" => {}
        _ => {
            eprintln!("case must be first, last or valid");
            return ExitCode::from(2);
        }
    }
    let naive = implementation == "naive";
    let accepted = (0..calls).filter(|_| verify_once(black_box(&verifier), naive, BODY, black_box(&signature))).count();
    let expected = if case == "valid" { calls } else { 0 };
    if accepted != expected {
        eprintln!("{implementation} accepted {accepted} of {calls} {case} signatures");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
