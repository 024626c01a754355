//! Typed FoxReach events.
//!
//! A delivery's body is `{"event": "<type>", "timestamp": "<date-time>", "data": {…}}`.
//! [`Event::from_slice_lenient`] reads it into an [`Event`] whose [`EventData`]
//! holds the typed payload of one of the eleven documented types, an
//! [`UnknownEvent`] for a type FoxReach adds later, or an [`UntypedEvent`] for
//! a documented type whose data cannot be typed; a field of an unexpected type
//! is degraded (`None`, its raw value kept), not an error. [`Event::from_slice`]
//! is the strict variant. Parse only bodies whose signature has been verified.
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
//! let event = Event::from_slice_lenient(body)?;
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
mod lenient;
mod payload;
mod table;
mod timestamp;
mod untyped;
mod wire;

pub use catalog::{EventData, EventType, UnknownEvent, UnknownEventType};
pub use error::{ParseError, ParseErrorKind};
#[cfg(feature = "delivery")]
pub(crate) use table::event_types;
// Every payload struct (one per row of the event table) and the open enums of their fields.
pub use payload::*;
pub use timestamp::{Timestamp, TimestampError};
pub use untyped::{UntypedEvent, UntypedReason};

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use catalog::DataSeed;
use wire::WireStr;

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

    /// Parses a (verified) request body, strictly: data of a documented type
    /// that cannot be typed is an error. Receivers should prefer
    /// [`from_slice_lenient`](Self::from_slice_lenient), which never loses a
    /// verified event.
    ///
    /// Known event types are read straight into their payload struct. Fields
    /// may come in any order; unknown fields and unknown event types are kept,
    /// not refused. This parse and the lenient one read fields the same way:
    /// a repeated key's last value wins (as in Python and JavaScript); the
    /// `timestamp` may be any JSON value (`null` when absent); ids may be
    /// integers; a documented optional field of another type is
    /// [degraded](EventData::degraded_fields), not an error.
    ///
    /// # Errors
    ///
    /// [`ParseError`] if the body is not JSON, or not an object with an
    /// `event` string and a `data` value, or if the data of a documented type
    /// is not an object or lacks one of its ids.
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

    /// Parses a (verified) request body so that a delivery is never lost:
    /// every JSON object whose `event` is a string is an `Ok` event. This is
    /// the parse a receiver should use.
    ///
    /// Beyond [`from_slice`](Self::from_slice), it skips a UTF-8 byte order
    /// mark before the JSON, reads an escaped lone UTF-16 surrogate in a
    /// string (`"\ud83d"`, text cut inside an emoji) as U+FFFD, and gives
    /// data of a documented type that cannot be typed (a required id missing,
    /// `null` or neither a string nor an integer; `data` missing or not an
    /// object) as [`EventData::Untyped`], with its raw data and the reason.
    /// A body the typed parse reads costs no more than with `from_slice`.
    ///
    /// ```
    /// use foxreach_webhooks::{Event, EventData};
    ///
    /// let body = br#"{"event":"email.sent","timestamp":"2025-01-15T10:30:00Z",
    ///     "data":{"emailLogId":123,"campaignId":"cmp_4","leadId":"cld_7","sequenceStep":"two"}}"#;
    /// let event = Event::from_slice_lenient(body)?;
    /// assert_eq!(event.degraded_fields(), ["sequenceStep"]);
    /// let EventData::EmailSent(sent) = &event.data else { unreachable!() };
    /// assert_eq!((sent.email_log_id.as_str(), sent.sequence_step), ("123", None));
    /// assert_eq!(sent.extra["sequenceStep"], "two");
    /// # Ok::<(), foxreach_webhooks::ParseError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The [`ParseError`] of [`from_slice`](Self::from_slice) if the body is
    /// not JSON (even after those repairs), or is JSON but not an object
    /// whose `event` is a string. Bytes that are not UTF-8 inside a string
    /// (a Latin-1 `é`, say) make the body not JSON (RFC 8259 requires
    /// UTF-8) and are not repaired: such a delivery is refused with `400` on
    /// every attempt.
    pub fn from_slice_lenient(body: &[u8]) -> Result<Self, ParseError> {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        let body = body.strip_prefix(BOM).unwrap_or(body);
        if let Ok(event) = serde_json::from_slice(body) {
            return Ok(event);
        }
        // The slow path, taken only by a body the typed parse refused.
        let repaired = untyped::repair_surrogates(body);
        let body = repaired.as_deref().unwrap_or(body);
        if repaired.is_some()
            && let Ok(event) = serde_json::from_slice(body)
        {
            return Ok(event);
        }
        if let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(body)
            && let Some(serde_json::Value::String(name)) = object.get("event")
        {
            let name = name.clone();
            return Ok(catalog::from_object(object, &name));
        }
        Self::from_slice(body)
    }

    /// The wire names of the data's degraded fields: documented optional
    /// fields whose value had another type, kept raw in the payload's `extra`
    /// (see [`EventData::degraded_fields`]). A dispatcher logs each as the
    /// path `data.<wire name>`, never its value.
    #[must_use]
    pub fn degraded_fields(&self) -> &[&'static str] {
        self.data.degraded_fields()
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

        // A repeated key's last value wins, as in Python's `json` and
        // JavaScript's `JSON.parse`, which FoxReach's bodies come from.
        let mut name: Option<Cow<'de, str>> = None;
        let mut timestamp = None;
        // Typed under the name known when it came; retyped below if `event`
        // is repeated after it with another name.
        let mut data: Option<EventData> = None;
        // `data` that came before `event`: it must wait until its type is known.
        let mut early_data: Option<serde_json::Value> = None;
        let mut extra = serde_json::Map::new();
        while let Some(WireStr(key)) = map.next_key()? {
            match &*key {
                "event" => name = Some(map.next_value::<WireStr<'de>>()?.0),
                "timestamp" => timestamp = Some(map.next_value()?),
                "data" => match &name {
                    Some(name) => (data, early_data) = (Some(map.next_value_seed(DataSeed(name))?), None),
                    None => (data, early_data) = (None, Some(map.next_value()?)),
                },
                _ => {
                    extra.insert(key.into_owned(), map.next_value()?);
                }
            }
        }
        let name = name.ok_or_else(|| A::Error::missing_field("event"))?;
        let in_data = |err: serde_json::Error| A::Error::custom(format_args!("in `data`: {err}"));
        let data = match (data, early_data) {
            (Some(data), _) if data.name() == name => data,
            // Typed under an earlier `event`: its serialization holds every
            // field as sent (degraded ones in `extra`), so it can be retyped.
            (Some(data), _) => {
                DataSeed(&name).deserialize(serde_json::to_value(&data).map_err(in_data)?).map_err(in_data)?
            }
            (None, Some(value)) => DataSeed(&name).deserialize(value).map_err(in_data)?,
            (None, None) => return Err(A::Error::missing_field("data")),
        };
        let timestamp = timestamp.unwrap_or_else(|| Timestamp::from_value(serde_json::Value::Null));
        Ok(Event { timestamp, data, extra })
    }
}
