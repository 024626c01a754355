//! Webhooks as a table, as text and as JSON.

use std::fmt::Write as _;
use std::time::SystemTime;

use foxreach_api::Webhook;
use foxreach_webhooks::event::Timestamp;
use serde_json::{Value, json};

use crate::output::{clean, table as aligned, time_seconds};

/// A FoxReach timestamp as RFC 3339 in UTC (the API writes it without an
/// offset), or as written when it cannot be read.
pub(super) fn time(at: &Timestamp) -> String {
    match at.instant() {
        Ok(instant) => time_seconds(SystemTime::from(instant)),
        Err(_) => clean(at.as_str(), false).into_owned(),
    }
}

fn last_delivery(webhook: &Webhook) -> String {
    webhook.last_delivered_at.as_ref().map_or_else(|| "never".to_owned(), time)
}

/// One line a webhook, health first.
pub(super) fn table(webhooks: &[Webhook]) -> String {
    let rows = webhooks.iter().map(|webhook| {
        vec![
            clean(&webhook.id, false).into_owned(),
            if webhook.is_active { "yes" } else { "no" }.to_owned(),
            webhook.consecutive_failures.to_string(),
            last_delivery(webhook),
            webhook.events.len().to_string(),
            clean(&webhook.url, false).into_owned(),
        ]
    });
    aligned(&["ID", "ACTIVE", "FAILURES", "LAST DELIVERY", "EVENTS", "URL"], rows, &[2, 4])
}

/// Every field of one webhook, one per line.
pub(super) fn text(webhook: &Webhook) -> String {
    let events: Vec<String> = webhook.events.iter().map(|event| clean(event, false).into_owned()).collect();
    let fields = [
        ("id", clean(&webhook.id, false).into_owned()),
        ("url", clean(&webhook.url, false).into_owned()),
        ("active", if webhook.is_active { "yes" } else { "no" }.to_owned()),
        ("events", events.join(", ")),
        ("failures", format!("{} in a row", webhook.consecutive_failures)),
        ("last delivery", last_delivery(webhook)),
        ("created at", time(&webhook.created_at)),
        ("updated at", time(&webhook.updated_at)),
    ];
    let mut text = String::new();
    for (name, value) in fields {
        let _ = writeln!(text, "{name:<14} {value}");
    }
    text
}

/// A webhook for scripts, in this tool's snake_case; times in RFC 3339 UTC.
pub(super) fn json(webhook: &Webhook) -> Value {
    json!({
        "id": webhook.id,
        "url": webhook.url,
        "active": webhook.is_active,
        "events": webhook.events,
        "consecutive_failures": webhook.consecutive_failures,
        "last_delivered_at": webhook.last_delivered_at.as_ref().map(time),
        "created_at": time(&webhook.created_at),
        "updated_at": time(&webhook.updated_at),
    })
}
