//! The verify hot path against its floor and its best peer, side by side.
//!
//! For each body size: `Verifier::verify` (keyed once), the free `verify`
//! (keyed per call), plain SHA-256 of the body (the floor: no key, no decode),
//! and `ring::hmac::verify` with a key built once, both with the hex header
//! decoded first (what a receiver must do) and with the tag pre-decoded.
//! Then typed event parsing against parsing into `serde_json::Value`.
//!
//! The verify contenders take turns (see `support`), and the ratios to the
//! floor printed after each size are over all their turns. `cargo bench
//! --bench verify`.

mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use foxreach_webhooks::{Event, Verifier, sign, verify};
use sha2::{Digest, Sha256};
use support::{Contender, taking_turns};

const SECRET: &str = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6a7b8c9d0e1f2";
const SIZES: [usize; 4] = [64, 1024, 16 * 1024, 1024 * 1024];

/// Calls per turn: enough for a turn to take microseconds, so that reading
/// the clock around it costs next to nothing.
fn calls_per_turn(size: usize) -> u32 {
    match size {
        0..=64 => 64,
        65..=1024 => 8,
        _ => 1,
    }
}

/// A contender that calls `call` in a timed loop.
fn timed<'a>(name: &'a str, mut call: impl FnMut() + 'a) -> Contender<'a> {
    Contender {
        name,
        run: Box::new(move |calls| {
            let started = Instant::now();
            for _ in 0..calls {
                call();
            }
            started.elapsed()
        }),
    }
}

fn verify_path(c: &mut Criterion) {
    let verifier = Verifier::new(SECRET).expect("the secret is not empty");
    let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    for size in SIZES {
        let body: Vec<u8> = (0..size).map(|i| b"{\"event\":\"email.sent\"}"[i % 22]).collect();
        let signature = sign(SECRET, &body);
        let tag = hex::decode(&signature).expect("hex");
        let (body, signature, tag) = (&body, &signature, &tag);
        let (verifier, ring_key) = (&verifier, &ring_key);

        let mut contenders = [
            timed("sha256 floor", || {
                black_box(Sha256::digest(black_box(body)));
            }),
            timed("Verifier::verify", || {
                black_box(verifier.verify(black_box(body), black_box(signature))).expect("verifies");
            }),
            timed("verify (keyed per call)", || {
                black_box(verify(SECRET, black_box(body), black_box(signature))).expect("verifies");
            }),
            timed("ring hex+verify", || {
                let mut tag = [0u8; 32];
                hex::decode_to_slice(black_box(signature), &mut tag).expect("hex");
                black_box(ring::hmac::verify(ring_key, black_box(body), &tag)).expect("verifies");
            }),
            timed("ring verify (tag pre-decoded)", || {
                black_box(ring::hmac::verify(ring_key, black_box(body), black_box(tag))).expect("verifies");
            }),
        ];
        taking_turns(c, &format!("verify/{size}"), &mut contenders, 0, calls_per_turn(size));
    }
}

fn parse(c: &mut Criterion) {
    let payloads: Vec<Vec<u8>> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/payloads"))
        .expect("the fixtures folder")
        .map(|entry| std::fs::read(entry.expect("an entry").path()).expect("a fixture"))
        .collect();
    assert_eq!(payloads.len(), 11, "one fixture per event type");
    let bytes: usize = payloads.iter().map(Vec::len).sum();

    let payloads = &payloads;
    let mut contenders = [
        timed("serde_json::Value", || {
            for body in payloads {
                black_box(serde_json::from_slice::<serde_json::Value>(black_box(body)).expect("JSON"));
            }
        }),
        timed("Event::from_slice", || {
            for body in payloads {
                black_box(Event::from_slice(black_box(body)).expect("an event"));
            }
        }),
    ];
    taking_turns(c, &format!("parse/11 docs payloads, {bytes} bytes"), &mut contenders, 0, 1);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = verify_path, parse
}
criterion_main!(benches);
