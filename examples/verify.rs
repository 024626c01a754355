//! Signs a FoxReach payload, verifies it as a receiver would, and prints the
//! typed event; then shows that a tampered body is refused.
//!
//! ```text
//! cargo run --example verify                    # the docs' email.sent payload
//! cargo run --example verify -- payload.json    # your own body
//! ```
//!
//! The secret comes from `FOXREACH_WEBHOOK_SECRET`; without it, the example
//! uses the secret from FoxReach's documentation and says so.

mod common;

use std::error::Error;

use foxreach_webhooks::{Event, Verifier, sign};

fn main() -> Result<(), Box<dyn Error>> {
    let secret = common::secret();
    let body = match std::env::args_os().nth(1) {
        Some(path) => std::fs::read(path)?,
        None => include_bytes!("../tests/fixtures/payloads/email.sent.json").to_vec(),
    };

    // What FoxReach does before it sends the delivery...
    let signature = sign(&secret, &body);
    println!("X-Webhook-Signature: {signature}");

    // ...and what the receiver does with it.
    let verifier = Verifier::new(&secret)?;
    verifier.verify(&body, &signature)?;
    let event = Event::from_slice_lenient(&body)?;
    println!("verified {} at {}: {:?}", event.name(), event.timestamp, event.data);

    let mut tampered = body.clone();
    tampered.push(b' ');
    match verifier.verify(&tampered, &signature) {
        Err(err) => println!("a body changed by one byte is refused: {err}"),
        Ok(()) => return Err("a tampered body verified".into()),
    }
    Ok(())
}
