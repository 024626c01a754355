//! What each part of the receiver records, with labels from fixed sets.

use std::time::Duration;

#[cfg(feature = "metrics")]
use super::tenant_label;
use crate::EventType;
use crate::delivery::{DeliveryKey, Outcome};
use crate::tenant::Tenant;

/// A metric with its fixed labels, and `tenant` too if the application
/// opted in ([`super::label_tenants`]).
#[cfg(feature = "metrics")]
macro_rules! labelled {
    ($kind:ident!($name:literal $(, $label:literal => $value:expr)*), $tenant:expr) => {
        match tenant_label($tenant) {
            Some(tenant) => metrics::$kind!($name $(, $label => $value)*, "tenant" => tenant.to_owned()),
            None => metrics::$kind!($name $(, $label => $value)*),
        }
    };
}

/// Counts a verified delivery and what became of it
/// (`foxreach_webhooks_deliveries_total`, by `event_type` and `outcome`; a
/// `stale` one is also a refusal). The dispatcher and the inbox's receivers
/// count each delivery they take here; call it from a receiver of your own
/// so that its deliveries count alike. Without feature `metrics` it does
/// nothing.
pub fn delivery(event_type: Option<EventType>, tenant: Option<&Tenant>, outcome: &Outcome) {
    #[cfg(feature = "metrics")]
    {
        let (event_type, outcome) = (event_type.map_or("unknown", EventType::as_str), outcome.label());
        labelled!(
            counter!("foxreach_webhooks_deliveries_total", "event_type" => event_type, "outcome" => outcome),
            tenant
        )
        .increment(1);
        if outcome == "stale" {
            super::refusal("stale");
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (event_type, tenant, outcome);
}

/// The span a delivery's handler runs in, for [`execute`](crate::delivery::execute)
/// (name `foxreach.delivery`, target `foxreach_webhooks`, info level): its
/// event type (`unknown` for a type this crate does not know), its key's
/// fingerprint, its tenant once the application opted in
/// ([`label_tenants`](super::label_tenants)), and empty fields `entry`,
/// `attempt` (an inbox's workers record them) and `outcome` (recorded once
/// it ends). Never the body.
pub fn delivery_span(event_type: Option<EventType>, key: &DeliveryKey, tenant: Option<&Tenant>) -> tracing::Span {
    let span = tracing::info_span!(
        target: "foxreach_webhooks",
        "foxreach.delivery",
        event_type = event_type.map_or("unknown", EventType::as_str),
        key = %key,
        tenant = tracing::field::Empty,
        entry = tracing::field::Empty,
        attempt = tracing::field::Empty,
        outcome = tracing::field::Empty,
    );
    if let Some(tenant) = super::tenant_label(tenant) {
        span.record("tenant", tracing::field::display(tenant));
    }
    span
}

/// How a handler's run ended, for the duration and failure metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandlerResult {
    Success,
    Retryable,
    Permanent,
    Panic,
    Timeout,
}

/// Records a handler's run: its duration, and its failure if it failed.
pub(crate) fn handler(event_type: &'static str, tenant: Option<&Tenant>, result: HandlerResult, took: Duration) {
    #[cfg(feature = "metrics")]
    {
        let (label, kind) = match result {
            HandlerResult::Success => ("success", None),
            HandlerResult::Retryable => ("retryable_failure", Some("retryable")),
            HandlerResult::Permanent => ("permanent_failure", Some("permanent")),
            HandlerResult::Panic => ("panic", Some("panic")),
            HandlerResult::Timeout => ("timeout", Some("timeout")),
        };
        labelled!(
            histogram!("foxreach_webhooks_handler_duration_seconds", "event_type" => event_type, "result" => label),
            tenant
        )
        .record(took.as_secs_f64());
        if let Some(kind) = kind {
            labelled!(
                counter!("foxreach_webhooks_handler_failures_total", "event_type" => event_type, "kind" => kind),
                tenant
            )
            .increment(1);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (event_type, tenant, result, took);
}
