//! The bodies of FoxReach's webhook management API, in its camelCase.
//!
//! Source: FoxReach's API reference, as `foxreach/README.md` of this
//! project gathers it ("What FoxReach's API reference adds"). Fields the
//! contract does not name are ignored when reading, so that a field FoxReach
//! adds breaks nothing.

use serde::{Deserialize, Serialize};

use super::secret::WebhookSecret;
use foxreach_webhooks::EventType;
use foxreach_webhooks::event::Timestamp;

/// A webhook as FoxReach describes it in every answer (`GET /webhooks`,
/// `POST /webhooks`, `PATCH /webhooks/{id}`): where it delivers, which
/// events, and how its deliveries have been going. The secret is never
/// part of it: FoxReach shows the secret once, in [`CreatedWebhook`].
///
/// The timestamps are FoxReach's API's own: ISO 8601 without an offset,
/// meaning UTC (`2025-01-15T10:00:00`, with microseconds when written by
/// Python); [`Timestamp::instant`] reads them as such.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Webhook {
    /// FoxReach's id of the webhook (`cwh_…`), the one `PATCH` and
    /// `DELETE /webhooks/{id}` take. Its prefix is not checked.
    pub id: String,
    /// Where FoxReach posts the deliveries.
    pub url: String,
    /// `isActive`: whether FoxReach delivers to it; an inactive webhook
    /// keeps its settings and receives nothing.
    pub is_active: bool,
    /// The wire names of the event types it receives (`email.sent`…), as
    /// FoxReach lists them, including any this crate does not type yet.
    pub events: Vec<String>,
    /// `lastDeliveredAt`: when FoxReach last delivered to it successfully;
    /// `None` (JSON `null`) if it never has.
    #[serde(default)]
    pub last_delivered_at: Option<Timestamp>,
    /// `consecutiveFailures`: how many deliveries in a row have failed
    /// (non-2xx or no answer, counting FoxReach's retries); 0 when the last
    /// one succeeded. After several, FoxReach marks the webhook unhealthy.
    #[serde(default)]
    pub consecutive_failures: u32,
    /// `createdAt`: when the webhook was created.
    pub created_at: Timestamp,
    /// `updatedAt`: when its url, events or `isActive` last changed.
    pub updated_at: Timestamp,
}

impl Webhook {
    /// The webhook's events that this crate types, and the names it does
    /// not know (an event type FoxReach added since this release).
    #[must_use]
    pub fn event_types(&self) -> (Vec<EventType>, Vec<&str>) {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for name in &self.events {
            match name.parse::<EventType>() {
                Ok(event_type) => known.push(event_type),
                Err(_) => unknown.push(name.as_str()),
            }
        }
        (known, unknown)
    }
}

/// The answer to `POST /webhooks`: the webhook and, this one time only, its
/// secret. Keep the secret (write it to a file with
/// [`WebhookSecret::write_new_file`]) before dropping this: FoxReach never
/// shows it again.
#[derive(Debug)]
#[non_exhaustive]
pub struct CreatedWebhook {
    /// The webhook, as later listed.
    pub webhook: Webhook,
    /// The secret FoxReach signs its deliveries with (64 characters).
    pub secret: WebhookSecret,
}

/// The body of `POST /webhooks`: `{"url", "events", "isActive"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewWebhook {
    /// Where FoxReach should post the deliveries (FoxReach asks for HTTPS).
    pub url: String,
    /// The wire names of the event types to receive. FoxReach refuses an
    /// unknown one with 422.
    pub events: Vec<String>,
    /// `isActive`: whether FoxReach delivers to it from the start.
    pub is_active: bool,
}

impl NewWebhook {
    /// An active webhook for `url` receiving `events`.
    ///
    /// ```
    /// use foxreach_webhooks::EventType;
    /// use foxreach_api::NewWebhook;
    ///
    /// let all = NewWebhook::new("https://example.com/webhooks/foxreach", EventType::ALL.iter().copied());
    /// assert_eq!(all.events.len(), 11);
    /// let replies = NewWebhook::new("https://example.com/hook", [EventType::ReplyReceived]);
    /// assert_eq!(replies.events, ["reply.received"]);
    /// ```
    pub fn new(url: impl Into<String>, events: impl IntoIterator<Item = EventType>) -> Self {
        Self::with_event_names(url, events.into_iter().map(|event| event.as_str().to_owned()).collect())
    }

    /// An active webhook for `url` receiving the event types named
    /// `events`, as given: for a type this crate does not know yet (a
    /// replacement during a rotation keeps the old webhook's names).
    pub fn with_event_names(url: impl Into<String>, events: Vec<String>) -> Self {
        Self { url: url.into(), events, is_active: true }
    }

    /// The same webhook, created active (`true`) or inactive.
    #[must_use]
    pub fn active(self, is_active: bool) -> Self {
        Self { is_active, ..self }
    }
}

/// The body of `PATCH /webhooks/{id}`: only the fields set are sent, and
/// FoxReach leaves the others as they are. The secret cannot be changed.
///
/// ```
/// use foxreach_api::WebhookUpdate;
///
/// let pause = WebhookUpdate::new().active(false);
/// assert_eq!(serde_json::to_string(&pause)?, r#"{"isActive":false}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookUpdate {
    /// A new delivery URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A new list of event type wire names, replacing the old one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// `isActive`: turn deliveries on or off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
}

impl WebhookUpdate {
    /// An update that changes nothing yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Deliver to `url` from now on.
    #[must_use]
    pub fn url(self, url: impl Into<String>) -> Self {
        Self { url: Some(url.into()), ..self }
    }

    /// Receive these event types (the list replaces the old one).
    #[must_use]
    pub fn events(self, events: impl IntoIterator<Item = EventType>) -> Self {
        Self { events: Some(events.into_iter().map(|event| event.as_str().to_owned()).collect()), ..self }
    }

    /// Receive these event types, by their wire names (the list replaces
    /// the old one), for a type FoxReach offers that [`EventType`] does not
    /// know yet; as [`NewWebhook::with_event_names`].
    #[must_use]
    pub fn event_names(self, events: Vec<String>) -> Self {
        Self { events: Some(events), ..self }
    }

    /// Turn deliveries on (`true`) or off.
    #[must_use]
    pub fn active(self, is_active: bool) -> Self {
        Self { is_active: Some(is_active), ..self }
    }

    /// Whether the update sets no field (FoxReach would change nothing).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.url.is_none() && self.events.is_none() && self.is_active.is_none()
    }
}

/// One page of a list: the items in `data`, and `meta` when FoxReach sends
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// Where the page is in the whole list; `None` if the answer had no
    /// `meta`.
    pub meta: Option<PageMeta>,
}

/// A list answer's `meta`: `{"page", "pageSize", "total", "totalPages"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PageMeta {
    /// This page's number, from 1.
    pub page: u32,
    /// How many items a page holds at most.
    pub page_size: u32,
    /// How many items the whole list holds.
    pub total: u64,
    /// How many pages the whole list spans.
    pub total_pages: u32,
}

/// FoxReach's answers, inside their `{"data": ...}` envelope.
#[derive(Deserialize)]
pub(super) struct Envelope<T> {
    pub(super) data: T,
}

/// A list answer: `{"data": [...], "meta": {...}}`.
#[derive(Deserialize)]
pub(super) struct ListEnvelope<T> {
    pub(super) data: Vec<T>,
    #[serde(default)]
    pub(super) meta: Option<PageMeta>,
}

/// One entry of `GET /webhooks/events`, whose shape the contract does not
/// give: a bare name (`"email.sent"`), or an object naming it in `type`,
/// `event`, `name` or `value`.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum OfferedEventType {
    Name(String),
    Object(serde_json::Map<String, serde_json::Value>),
}

impl OfferedEventType {
    /// The wire name, if the entry has one.
    pub(super) fn into_name(self) -> Option<String> {
        match self {
            Self::Name(name) => Some(name),
            Self::Object(mut fields) => {
                ["type", "event", "name", "value"].iter().find_map(|key| match fields.remove(*key) {
                    Some(serde_json::Value::String(name)) => Some(name),
                    _ => None,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_reads_foxreachs_camel_case_and_ignores_unknown_fields() {
        let json = r#"{"id":"cwh_1","url":"https://example.com/h","isActive":true,"events":["email.sent","lead.deleted"],
            "lastDeliveredAt":null,"consecutiveFailures":3,"createdAt":"2025-01-15T10:00:00",
            "updatedAt":"2025-01-15T10:30:00.123456","somethingNew":{"x":1}}"#;
        let webhook: Webhook = serde_json::from_str(json).expect("a webhook");
        assert_eq!((webhook.id.as_str(), webhook.is_active, webhook.consecutive_failures), ("cwh_1", true, 3));
        assert_eq!(webhook.last_delivered_at, None);
        let created = webhook.created_at.instant().expect("UTC without an offset");
        assert_eq!(created.unix_timestamp(), 1_736_935_200);
        assert_eq!(webhook.event_types(), (vec![EventType::EmailSent], vec!["lead.deleted"]));
    }

    #[test]
    fn a_new_webhook_and_an_update_write_camel_case() {
        let new = NewWebhook::new("https://example.com/h", [EventType::EmailSent]).active(false);
        assert_eq!(
            serde_json::to_value(&new).expect("JSON"),
            serde_json::json!({"url": "https://example.com/h", "events": ["email.sent"], "isActive": false})
        );
        let update = WebhookUpdate::new().url("https://example.com/g").events([EventType::LeadCreated]);
        assert_eq!(
            serde_json::to_value(&update).expect("JSON"),
            serde_json::json!({"url": "https://example.com/g", "events": ["lead.created"]})
        );
        assert!(WebhookUpdate::new().is_empty() && !update.is_empty());
        // A type FoxReach offers that `EventType` does not know yet, by name.
        let by_name = WebhookUpdate::new().event_names(vec!["email.sent".to_owned(), "meeting.booked".to_owned()]);
        assert_eq!(
            serde_json::to_value(&by_name).expect("JSON"),
            serde_json::json!({"events": ["email.sent", "meeting.booked"]})
        );
    }

    #[test]
    fn offered_event_types_are_read_as_names_or_objects() {
        let json =
            r#"["email.sent", {"type": "lead.created", "description": "x"}, {"name": "reply.received"}, {"n": 1}]"#;
        let offered: Vec<OfferedEventType> = serde_json::from_str(json).expect("a list");
        let names: Vec<Option<String>> = offered.into_iter().map(OfferedEventType::into_name).collect();
        assert_eq!(
            names,
            [Some("email.sent".to_owned()), Some("lead.created".to_owned()), Some("reply.received".to_owned()), None]
        );
    }
}
