//! What the workers record besides the handler's own metrics (which
//! `foxreach_webhooks::delivery::execute` records): retries and dead
//! letters, by event type (and tenant, once the application opted in with
//! `foxreach_webhooks::observe::label_tenants`). Names and labels are
//! listed in `foxreach_webhooks::observe`.

use foxreach_webhooks::tenant::Tenant;

/// Counts an entry scheduled again.
pub(crate) fn retry(event_type: &'static str, tenant: Option<&Tenant>) {
    #[cfg(feature = "metrics")]
    match foxreach_webhooks::observe::tenant_label(tenant) {
        Some(tenant) => metrics::counter!(
            "foxreach_webhooks_inbox_retries_total", "event_type" => event_type, "tenant" => tenant.to_owned()
        ),
        None => metrics::counter!("foxreach_webhooks_inbox_retries_total", "event_type" => event_type),
    }
    .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (event_type, tenant);
}

/// Counts an entry made a dead letter, and why (a reason from a fixed set).
pub(crate) fn dead_letter(event_type: &'static str, tenant: Option<&Tenant>, reason: &'static str) {
    #[cfg(feature = "metrics")]
    match foxreach_webhooks::observe::tenant_label(tenant) {
        Some(tenant) => metrics::counter!(
            "foxreach_webhooks_inbox_dead_letters_total",
            "event_type" => event_type, "reason" => reason, "tenant" => tenant.to_owned()
        ),
        None => metrics::counter!(
            "foxreach_webhooks_inbox_dead_letters_total", "event_type" => event_type, "reason" => reason
        ),
    }
    .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (event_type, tenant, reason);
}
