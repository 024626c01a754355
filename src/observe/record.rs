//! What each part of the receiver records, with labels from fixed sets.

use std::time::Duration;

#[cfg(feature = "metrics")]
use super::tenant_label;
use crate::EventType;
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

/// The `event_type` label of an event's type as the body names it:
/// FoxReach's own name for the eleven it documents, `unknown` otherwise
/// (the label's values stay a fixed set whatever arrives).
pub(crate) fn event_type_label(name: Option<&str>) -> &'static str {
    name.and_then(|name| name.parse::<EventType>().ok()).map_or("unknown", EventType::as_str)
}

/// Counts a verified delivery and what became of it, by the outcome's label
/// (a `stale` one is also a refusal).
pub(crate) fn delivery(event_type: &'static str, tenant: Option<&Tenant>, outcome: &'static str) {
    #[cfg(feature = "metrics")]
    {
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

/// Counts an inbox entry scheduled again.
pub(crate) fn retry(event_type: &'static str, tenant: Option<&Tenant>) {
    #[cfg(feature = "metrics")]
    labelled!(counter!("foxreach_webhooks_inbox_retries_total", "event_type" => event_type), tenant).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (event_type, tenant);
}

/// Counts an inbox entry made a dead letter, and why.
pub(crate) fn dead_letter(event_type: &'static str, tenant: Option<&Tenant>, reason: &'static str) {
    #[cfg(feature = "metrics")]
    labelled!(
        counter!("foxreach_webhooks_inbox_dead_letters_total", "event_type" => event_type, "reason" => reason),
        tenant
    )
    .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (event_type, tenant, reason);
}
