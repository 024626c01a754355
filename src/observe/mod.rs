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
//! | `foxreach_webhooks_deliveries_total` | counter | `event_type`, `outcome` | verified deliveries, by what became of them ([`Outcome`](crate::delivery::Outcome)): `processed`, `duplicate`, `in_progress`, `failed_retryable`, `failed_permanent`, `panicked`, `still_running` (answered after the budget ran out), `shutting_down`, `stale`, `store_unavailable`, `kept` (in an inbox), `inbox_unavailable`, `inbox_full` (refused at the inbox's bound on open entries) |
//! | `foxreach_webhooks_refusals_total` | counter | `reason` | requests refused before a handler could run: `missing_signature`, `malformed_signature`, `signature_mismatch`, `empty_secret`, `too_large`, `unreadable_body`, `not_json`, `not_an_event`, `stale` (outside the replay window), `unknown_tenant`, `tenant_unavailable` (the secret resolver failed) |
//! | `foxreach_webhooks_handler_duration_seconds` | histogram | `event_type`, `result` | how long each handler ran, in seconds: `success`, `retryable_failure`, `permanent_failure`, `panic`, `timeout` (an inbox attempt cut at its limit) |
//! | `foxreach_webhooks_handler_failures_total` | counter | `event_type`, `kind` | handlers that did not succeed: `retryable`, `permanent`, `panic`, `timeout` |
//! | `foxreach_webhooks_inbox_retries_total` | counter | `event_type` | inbox entries scheduled again after a failed attempt |
//! | `foxreach_webhooks_inbox_dead_letters_total` | counter | `event_type`, `reason` | inbox entries made dead letters: `permanent_failure`, `not_an_event`, `stale`, `exhausted` (the backoff's last try failed), `too_many_tries` (taken more often than the schedule allows: a handler that kills the process) |
//! | `foxreach_webhooks_connections_closed_total` | counter | `reason` | connections the server closed itself (feature `server`, [`crate::http::server`]): `header_timeout` (no complete request head in time), `idle` (a kept-alive connection waited too long), `evicted` (the longest-idle, to make room at the connection limit), `refused` (answered `503` past the limit, every connection busy), `request_timeout` (a request in flight past the request timeout, dropped), `stuck` (asked to close, still open an idle timeout later), `shutdown_deadline` (still open when the shutdown deadline passed) |
//!
//! `event_type` is one of FoxReach's eleven types as it writes them
//! (`email.sent`, `lead.created`, ...), or `unknown` for any other.
//!
//! | gauge | labels | what it says |
//! | --- | --- | --- |
//! | `foxreach_webhooks_inbox_entries` | `state` | the inbox's backlog: `pending`, `taken`, `dead` (done entries are not counted: see `foxreach_inbox::Backlog`) |
//! | `foxreach_webhooks_inbox_oldest_open_age_seconds` | | how long the oldest pending or taken entry has waited since it arrived (or was replayed), in seconds; 0 when none is open |
//!
//! The inbox metrics are recorded by crate `foxreach-inbox` (its feature
//! `metrics`): `foxreach_inbox::Workers::run` sets the gauges every 15
//! seconds; `foxreach_inbox::Backlog::record` sets them from a backlog
//! the application asked for (before a scrape, say). They describe the
//! whole inbox, so every process sharing one (Redis) reports the same
//! values: aggregate them with `max`, not `sum`. When the inbox cannot be
//! read they keep their last values; `foxreach_webhooks_deliveries_total`
//! with `outcome="inbox_unavailable"` shows the failure.
//!
//! **Tenants.** A receiver of several webhooks ([`crate::tenant`]) records
//! no tenant: each would be a series of its own. After
//! [`label_tenants`]`(true)`, the delivery, handler, retry and dead-letter
//! metrics carry a `tenant` label and the `foxreach.delivery` span a
//! `tenant` field, for applications with few tenants. Refusals never carry
//! one: their tenant came from an unverified request.
//!
//! # Spans
//!
//! Each handler runs inside a `foxreach.delivery` span (target
//! `foxreach_webhooks`, info level) with fields `event_type`, `key` (the
//! delivery key's fingerprint), `entry` and `attempt` on an inbox's
//! workers, `tenant` if opted in, and `outcome` once it ends: in the
//! request, the `outcome` labels above (`processed`, `failed_retryable`,
//! `panicked`, ...); on the workers, `done`, `retry` or `dead_letter`. The
//! application's own spans and logs nest inside it.

#[cfg(feature = "delivery")]
mod record;

#[cfg(feature = "delivery")]
use std::sync::atomic::{AtomicBool, Ordering};

#[cfg(feature = "delivery")]
pub(crate) use record::{HandlerResult, handler};
#[cfg(feature = "delivery")]
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub use record::{delivery, delivery_span};
#[cfg(any(feature = "http", all(feature = "delivery", feature = "metrics")))]
pub(crate) use refusal::refusal;

#[cfg(any(feature = "http", all(feature = "delivery", feature = "metrics")))]
mod refusal {
    /// Counts a refused request, by a reason from a fixed set.
    pub(crate) fn refusal(reason: &'static str) {
        #[cfg(feature = "metrics")]
        metrics::counter!("foxreach_webhooks_refusals_total", "reason" => reason).increment(1);
        #[cfg(not(feature = "metrics"))]
        let _ = reason;
    }
}

/// Counts a connection the server closed itself, by a reason from a fixed set.
#[cfg(feature = "server")]
pub(crate) fn connection_closed(reason: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("foxreach_webhooks_connections_closed_total", "reason" => reason).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

/// Whether metrics and spans carry the tenant; see [`label_tenants`].
#[cfg(feature = "delivery")]
static LABEL_TENANTS: AtomicBool = AtomicBool::new(false);

/// Makes the delivery, handler, retry and dead-letter metrics carry a
/// `tenant` label, and the `foxreach.delivery` span a `tenant` field (off by
/// default). Each tenant is then a series of its own in every metric: turn
/// it on only with a bounded number of tenants.
#[cfg(feature = "delivery")]
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub fn label_tenants(on: bool) {
    LABEL_TENANTS.store(on, Ordering::Relaxed);
}

/// The tenant to record as a metric's `tenant` label or a span's field:
/// `tenant`'s name if the application opted in with [`label_tenants`],
/// `None` otherwise.
#[cfg(feature = "delivery")]
#[cfg_attr(docsrs, doc(cfg(feature = "delivery")))]
pub fn tenant_label(tenant: Option<&crate::tenant::Tenant>) -> Option<&str> {
    tenant.filter(|_| LABEL_TENANTS.load(Ordering::Relaxed)).map(crate::tenant::Tenant::as_str)
}

/// Describes this crate's metrics (what each counts, and the unit) to the
/// recorder installed now, for exporters that show it (Prometheus's `# HELP`
/// lines). Call it once, after installing the recorder.
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "foxreach_webhooks_deliveries_total",
        Unit::Count,
        "Verified FoxReach deliveries, by event type and outcome."
    );
    describe_counter!(
        "foxreach_webhooks_refusals_total",
        Unit::Count,
        "Requests refused before a handler ran (signature, size, shape, replay window, tenant), by reason."
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
    describe_counter!(
        "foxreach_webhooks_connections_closed_total",
        Unit::Count,
        "Connections the server closed itself (header timeout, idle, evicted at the limit, refused, shutdown deadline), by reason."
    );
    describe_gauge!(
        "foxreach_webhooks_inbox_entries",
        Unit::Count,
        "Inbox entries not processed yet, by state (pending, taken, dead)."
    );
    describe_gauge!(
        "foxreach_webhooks_inbox_oldest_open_age_seconds",
        Unit::Seconds,
        "How long the oldest pending or taken inbox entry has waited, in seconds."
    );
}
