//! Typed FoxReach events.
//!
//! A delivery's body is `{"event": "<type>", "timestamp": "<RFC 3339>", "data": {…}}`.
//! [`Event::from_slice`] reads it into an [`Event`] whose [`EventData`] holds
//! the typed payload of one of the eleven documented types, or an
//! [`UnknownEvent`] for a type FoxReach adds later. Parse only bodies whose
//! signature has been verified.
//!
//! ```
//! use foxreach_webhooks::{Event, EventData, EventType};
//! use foxreach_webhooks::event::BounceType;
//!
//! let body = br#"{
//!   "event": "email.bounced",
//!   "timestamp": "2025-01-15T10:30:00Z",
//!   "data": {"emailLogId": "cel_123", "campaignId": "cmp_456", "leadId": "cld_789",
//!            "toEmail": "lead@example.com", "bounceType": "hard"}
//! }"#;
//! let event = Event::from_slice(body)?;
//! assert_eq!(event.event_type(), Some(EventType::EmailBounced));
//! if let EventData::EmailBounced(bounce) = &event.data {
//!     assert_eq!(bounce.bounce_type, Some(BounceType::Hard));
//! }
//! # Ok::<(), foxreach_webhooks::ParseError>(())
//! ```
//!
//! Events serialize back to the same wire format, unknown fields included, so
//! a stored event can be replayed and parses to an equal value.

mod catalog;
mod error;
mod payload;
mod timestamp;

#[cfg(feature = "delivery")]
pub(crate) use catalog::event_types;
pub use catalog::{EventData, EventType, UnknownEvent, UnknownEventType};
pub use error::{ParseError, ParseErrorKind};
// Every payload struct (one per row of the event table), `BounceType` and `ReplyCategory`.
pub use payload::*;
pub use timestamp::{Timestamp, TimestampError};

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use catalog::DataSeed;
use payload::WireStr;

/// One FoxReach webhook delivery: what happened, when, and its data.
///
/// The event type is the variant of [`data`](Self::data); [`name`](Self::name)
/// gives its wire name for every type, unknown ones included.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// When FoxReach says the event happened.
    pub timestamp: Timestamp,
    /// The event's type and typed `data`.
    pub data: EventData,
    /// Top-level fields besides `event`, `timestamp` and `data`, exactly as
    /// sent (FoxReach documents none today).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Event {
    /// An event with no extra top-level fields, for building one in tests.
    ///
    /// ```
    /// use foxreach_webhooks::{Event, EventData};
    /// use foxreach_webhooks::event::{CampaignStarted, Timestamp};
    ///
    /// let event = Event::new(
    ///     Timestamp::new("2025-01-15T09:00:00Z"),
    ///     EventData::CampaignStarted(CampaignStarted::new("cmp_456")),
    /// );
    /// let body = serde_json::to_vec(&event)?;
    /// assert_eq!(Event::from_slice(&body)?, event);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(timestamp: Timestamp, data: EventData) -> Self {
        Self { timestamp, data, extra: serde_json::Map::new() }
    }

    /// Parses a (verified) request body.
    ///
    /// Known event types are read straight into their payload struct. Fields
    /// may come in any order; unknown fields and unknown event types are kept,
    /// not refused.
    ///
    /// # Errors
    ///
    /// [`ParseError`] if the body is not JSON, or not an object with an
    /// `event` string, a `timestamp` string and a `data` value, or if the data
    /// of a documented type lacks its ids or has a field of the wrong type.
    pub fn from_slice(body: &[u8]) -> Result<Self, ParseError> {
        // Tracking the JSON path costs an allocation per key, so it is done
        // only to explain a failure: parsing is deterministic, and the second
        // pass fails where the first did.
        serde_json::from_slice(body).map_err(|err| {
            let mut deserializer = serde_json::Deserializer::from_slice(body);
            match serde_path_to_error::deserialize::<_, Self>(&mut deserializer) {
                Err(located) => {
                    let path = located.path().to_string();
                    ParseError::new(path, located.into_inner())
                }
                // Only trailing characters after the event fail past this point.
                Ok(_) => ParseError::new(".".to_owned(), err),
            }
        })
    }

    /// The event type's wire name, such as `"email.sent"`, also for types
    /// this crate does not know.
    #[must_use]
    pub fn name(&self) -> &str {
        self.data.name()
    }

    /// The event's type, or `None` for a type this crate does not know.
    #[must_use]
    pub fn event_type(&self) -> Option<EventType> {
        self.data.event_type()
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3 + self.extra.len()))?;
        map.serialize_entry("event", self.name())?;
        map.serialize_entry("timestamp", &self.timestamp)?;
        map.serialize_entry("data", &self.data)?;
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a FoxReach event object with `event`, `timestamp` and `data`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        use de::Error;

        let mut name: Option<Cow<'de, str>> = None;
        let mut timestamp = None;
        let mut data = None;
        // `data` that came before `event`: it must wait until its type is known.
        let mut early_data: Option<serde_json::Value> = None;
        let mut extra = serde_json::Map::new();
        while let Some(WireStr(key)) = map.next_key()? {
            match &*key {
                "event" if name.is_some() => return Err(A::Error::duplicate_field("event")),
                "event" => name = Some(map.next_value::<WireStr<'de>>()?.0),
                "timestamp" if timestamp.is_some() => return Err(A::Error::duplicate_field("timestamp")),
                "timestamp" => timestamp = Some(map.next_value()?),
                "data" if data.is_some() || early_data.is_some() => return Err(A::Error::duplicate_field("data")),
                "data" => match &name {
                    Some(name) => data = Some(map.next_value_seed(DataSeed(name))?),
                    None => early_data = Some(map.next_value()?),
                },
                _ => {
                    let value = map.next_value()?;
                    if extra.insert(key.into_owned(), value).is_some() {
                        return Err(A::Error::custom("duplicate top-level field"));
                    }
                }
            }
        }
        let name = name.ok_or_else(|| A::Error::missing_field("event"))?;
        let data = match (data, early_data) {
            (Some(data), _) => data,
            (None, Some(value)) => {
                DataSeed(&name).deserialize(value).map_err(|err| A::Error::custom(format_args!("in `data`: {err}")))?
            }
            (None, None) => return Err(A::Error::missing_field("data")),
        };
        let timestamp = timestamp.ok_or_else(|| A::Error::missing_field("timestamp"))?;
        Ok(Event { timestamp, data, extra })
    }
}
