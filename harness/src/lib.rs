//! What the CI harnesses share. `.ci/` runs the binaries of this crate against
//! the example receivers; none of it is published.
//!
//! - `ct_callgrind`: the program `.ci/constant-time` counts under callgrind.
//! - `dudect`: the statistical constant-time test (not a gate).
//! - `hostile`: hostile input against a running receiver, for `.ci/hostile`.
//! - `hardening`: idle and slow clients, a locked, deleted or full inbox and
//!   its bound, against a running receiver, for `.ci/hardening`.
//! - `load`: load against a running receiver, for `.ci/load`.
//! - `baseline_receiver`: the ceiling `.ci/load` measures against, a bare
//!   hyper server that reads the body and answers `204`.
//! - `dispatch_cost`: the instructions the dispatcher adds to a request.
//! - `foxreach_sender`: deliveries sent and retried as FoxReach does, for
//!   `.ci/durability`.
//! - `inbox_append`: appends per second into the SQLite inbox.

pub mod raw;
pub mod receiver;

/// The webhook secret the harnesses sign with: `FOXREACH_WEBHOOK_SECRET`,
/// which the `.ci/` scripts set for the receiver and the harness alike.
///
/// # Errors
///
/// If the variable is unset or not UTF-8.
pub fn secret() -> Result<String, String> {
    std::env::var("FOXREACH_WEBHOOK_SECRET")
        .map_err(|_| "set FOXREACH_WEBHOOK_SECRET to the receiver's webhook secret".to_owned())
}
