//! What the receiver records through the [`metrics`](https://docs.rs/metrics)
//! facade (feature `metrics`): the application installs a recorder (an
//! exporter of its choice, Prometheus for one) and this crate counts into
//! it. Without a recorder, or without the feature, recording costs nothing.
//!
//! Names follow the Prometheus conventions (`_total` for counters, the
//! unit last); label values are a fixed, documented set, never an id, a
//! key, a body or a secret, so that no delivery can grow the number of
//! series.
//!
//! | metric | kind | labels | what it counts |
//! | --- | --- | --- | --- |
//! | `foxreach_webhooks_deliveries_total` | counter | `event_type`, `outcome` | verified deliveries, by what became of them ([`Outcome`](crate::delivery::Outcome)): `processed`, `duplicate`, `in_progress`, `failed_retryable`, `failed_permanent`, `panicked`, `still_running` (answered after the budget ran out), `shutting_down`, `stale`, `store_unavailable`, `kept` (in an inbox), `inbox_unavailable` |
//! | `foxreach_webhooks_refusals_total` | counter | `reason` | requests refused before a handler could run: `missing_signature`, `malformed_signature`, `signature_mismatch`, `empty_secret`, `too_large`, `unreadable_body`, `not_json`, `not_an_event`, `stale` (outside the replay window) |
//! | `foxreach_webhooks_handler_duration_seconds` | histogram | `event_type`, `result` | how long each handler ran, in seconds: `success`, `retryable_failure`, `permanent_failure`, `panic`, `timeout` (an inbox attempt cut at its limit) |
//! | `foxreach_webhooks_handler_failures_total` | counter | `event_type`, `kind` | handlers that did not succeed: `retryable`, `permanent`, `panic`, `timeout` |
//! | `foxreach_webhooks_inbox_retries_total` | counter | `event_type` | inbox entries scheduled again after a failed attempt |
//! | `foxreach_webhooks_inbox_dead_letters_total` | counter | `event_type`, `reason` | inbox entries made dead letters: `permanent_failure`, `not_an_event`, `stale`, `exhausted` (the backoff's last try failed), `too_many_tries` (taken more often than the schedule allows: a handler that kills the process) |
//!
//! `event_type` is one of FoxReach's eleven types as it writes them
//! (`email.sent`, `lead.created`, ...), or `unknown` for any other.

#[cfg(feature = "delivery")]
use std::time::Duration;

/// Describes this crate's metrics (what each counts, and the unit) to the
/// recorder installed now, for exporters that show it (Prometheus's `# HELP`
/// lines). Call it once, after installing the recorder.
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_histogram};
    describe_counter!(
        "foxreach_webhooks_deliveries_total",
        Unit::Count,
        "Verified FoxReach deliveries, by event type and outcome."
    );
    describe_counter!(
        "foxreach_webhooks_refusals_total",
        Unit::Count,
        "Requests refused before a handler ran (signature, size, shape, replay window), by reason."
    );
    describe_histogram!(
        "foxreach_webhooks_handler_duration_seconds",
        Unit::Seconds,
        "How long each handler ran, by event type and result."
    );
    describe_counter!(
        "foxreach_webhooks_handler_failures_total",
        Unit::Count,
        "Handlers that failed, panicked or timed out, by event type and kind."
    );
    describe_counter!(
        "foxreach_webhooks_inbox_retries_total",
        Unit::Count,
        "Inbox entries scheduled again after a failed attempt, by event type."
    );
    describe_counter!(
        "foxreach_webhooks_inbox_dead_letters_total",
        Unit::Count,
        "Inbox entries made dead letters, by event type and reason."
    );
}

#[cfg(feature = "delivery")]
use crate::EventType;

/// The `event_type` label of an event's type as the body names it:
/// FoxReach's own name for the eleven it documents, `unknown` otherwise
/// (the label's values stay a fixed set whatever arrives).
#[cfg(feature = "delivery")]
pub(crate) fn event_type_label(name: Option<&str>) -> &'static str {
    name.and_then(|name| name.parse::<EventType>().ok()).map_or("unknown", EventType::as_str)
}

/// Counts a verified delivery and what became of it.
#[cfg(feature = "delivery")]
pub(crate) fn delivery(event_type: &'static str, outcome: &crate::delivery::Outcome) {
    #[cfg(feature = "metrics")]
    {
        let outcome = outcome.label();
        metrics::counter!("foxreach_webhooks_deliveries_total", "event_type" => event_type, "outcome" => outcome)
            .increment(1);
        if outcome == "stale" {
            refusal("stale");
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (event_type, outcome);
}

/// Counts a refused request.
#[cfg(any(feature = "http", all(feature = "delivery", feature = "metrics")))]
pub(crate) fn refusal(reason: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("foxreach_webhooks_refusals_total", "reason" => reason).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

/// How a handler's run ended, for the duration and failure metrics.
#[cfg(feature = "delivery")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandlerResult {
    Success,
    Retryable,
    Permanent,
    Panic,
    Timeout,
}

/// Records a handler's run: its duration, and its failure if it failed.
#[cfg(feature = "delivery")]
pub(crate) fn handler(event_type: &'static str, result: HandlerResult, took: Duration) {
    #[cfg(feature = "metrics")]
    {
        let (label, kind) = match result {
            HandlerResult::Success => ("success", None),
            HandlerResult::Retryable => ("retryable_failure", Some("retryable")),
            HandlerResult::Permanent => ("permanent_failure", Some("permanent")),
            HandlerResult::Panic => ("panic", Some("panic")),
            HandlerResult::Timeout => ("timeout", Some("timeout")),
        };
        metrics::histogram!("foxreach_webhooks_handler_duration_seconds", "event_type" => event_type, "result" => label)
            .record(took.as_secs_f64());
        if let Some(kind) = kind {
            metrics::counter!("foxreach_webhooks_handler_failures_total", "event_type" => event_type, "kind" => kind)
                .increment(1);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (event_type, result, took);
}

/// Counts an inbox entry scheduled again.
#[cfg(feature = "delivery")]
pub(crate) fn retry(event_type: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("foxreach_webhooks_inbox_retries_total", "event_type" => event_type).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = event_type;
}

/// Counts an inbox entry made a dead letter, and why.
#[cfg(feature = "delivery")]
pub(crate) fn dead_letter(event_type: &'static str, reason: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("foxreach_webhooks_inbox_dead_letters_total", "event_type" => event_type, "reason" => reason)
        .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (event_type, reason);
}
