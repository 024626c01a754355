//! The eleven event types FoxReach documents: [`EventType`] names them,
//! [`EventData`] carries their typed `data`, and [`UnknownEvent`] carries any
//! type FoxReach adds later. Both enums are generated from the one table
//! of event types (`table.rs`).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, DeserializeSeed, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::table::event_types;
use super::untyped::UntypedEvent;
use super::wire::WireStr;
use super::{Event, Timestamp};
use serde_json::{Map, Value};

macro_rules! catalog {
    ( $( $(#[$meta:meta])* $variant:ident = $wire:literal => $method:ident, )* ) => {
        /// One of the event types FoxReach documents, named as on the wire
        /// (`email.sent`…). Use it to register a webhook for some events, or to
        /// route on an event's type.
        ///
        /// # Example
        ///
        /// ```
        /// use foxreach_webhooks::EventType;
        ///
        /// let wanted: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        /// assert_eq!(wanted[0], "email.sent");
        /// assert_eq!("reply.received".parse::<EventType>()?, EventType::ReplyReceived);
        /// assert_eq!(EventType::EmailBounced.to_string(), "email.bounced");
        /// # Ok::<(), foxreach_webhooks::event::UnknownEventType>(())
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum EventType {
            $( $(#[$meta])* #[doc = concat!("\n\nWire name: `", $wire, "`.")] $variant, )*
        }

        impl EventType {
            /// Every documented event type, in FoxReach's documentation order.
            /// A slice, so that its type stays the same when FoxReach adds a type.
            pub const ALL: &'static [EventType] = &[$( Self::$variant, )*];

            /// The wire name, such as `"email.sent"`.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $wire, )*
                }
            }

            /// The wire names of the ids that the type's data requires.
            pub(crate) fn required_fields(self) -> &'static [&'static str] {
                match self {
                    $( Self::$variant => super::payload::$variant::REQUIRED, )*
                }
            }

            /// The type with this wire name, if it is a documented one.
            fn from_wire(name: &str) -> Option<Self> {
                match name {
                    $( $wire => Some(Self::$variant), )*
                    _ => None,
                }
            }
        }

        /// The typed `data` of an event, by event type.
        ///
        /// Match on it to handle the types you care about; the wildcard arm that
        /// `#[non_exhaustive]` requires also covers [`EventData::Unknown`] and
        /// [`EventData::Untyped`].
        ///
        /// # Example
        ///
        /// ```
        /// use foxreach_webhooks::{Event, EventData};
        ///
        /// let body = br#"{"event":"reply.received","timestamp":"2025-01-15T15:00:00Z",
        ///     "data":{"replyId":"crp_123","campaignId":"cmp_456","leadId":"cld_789"}}"#;
        /// match Event::from_slice(body)?.data {
        ///     EventData::ReplyReceived(reply) => assert_eq!(reply.lead_id, "cld_789"),
        ///     other => panic!("unexpected {}", other.name()),
        /// }
        /// # Ok::<(), foxreach_webhooks::ParseError>(())
        /// ```
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum EventData {
            $(
                #[doc = concat!("A `", $wire, "` event.")]
                $variant(super::payload::$variant),
            )*
            /// An event type this version of the crate does not know. FoxReach may
            /// add types at any time; a correctly signed delivery of one is kept,
            /// not refused.
            Unknown(UnknownEvent),
            /// An event of a documented type whose data could not be typed (a
            /// required id missing or not an id, `data` not an object), kept
            /// with its raw data and the reason. Only
            /// [`Event::from_slice_lenient`](super::Event::from_slice_lenient)
            /// gives it; [`Event::from_slice`](super::Event::from_slice) fails
            /// instead.
            Untyped(UntypedEvent),
        }

        impl EventData {
            /// The event's type, or `None` for an [`EventData::Unknown`] one.
            #[must_use]
            pub fn event_type(&self) -> Option<EventType> {
                match self {
                    $( Self::$variant(_) => Some(EventType::$variant), )*
                    Self::Unknown(_) => None,
                    Self::Untyped(untyped) => Some(untyped.event_type),
                }
            }

            /// The wire names of the data's degraded fields (see
            /// [`EmailSent::degraded_fields`](super::EmailSent::degraded_fields)):
            /// documented optional fields whose value had another type, kept
            /// raw in the payload's `extra`. Empty for unknown and untyped events.
            #[must_use]
            pub fn degraded_fields(&self) -> &[&'static str] {
                match self {
                    $( Self::$variant(data) => data.degraded_fields(), )*
                    Self::Unknown(_) | Self::Untyped(_) => &[],
                }
            }

            /// The wire name of the event's type, also for unknown types.
            #[must_use]
            pub fn name(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $wire, )*
                    Self::Unknown(unknown) => &unknown.event,
                    Self::Untyped(untyped) => untyped.event_type.as_str(),
                }
            }
        }

        impl Serialize for EventData {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Self::$variant(data) => data.serialize(serializer), )*
                    Self::Unknown(unknown) => unknown.data.serialize(serializer),
                    Self::Untyped(untyped) => untyped.data.serialize(serializer),
                }
            }
        }

        impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
            type Value = EventData;

            fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<EventData, D::Error> {
                Ok(match EventType::from_wire(self.0) {
                    $( Some(EventType::$variant) => EventData::$variant(super::payload::$variant::deserialize(deserializer)?), )*
                    None => EventData::Unknown(UnknownEvent {
                        event: self.0.to_owned(),
                        data: serde_json::Value::deserialize(deserializer)?,
                    }),
                })
            }
        }
    };
}

event_types!(catalog);

/// The data of an event type this version of the crate does not know.
///
/// # Example
///
/// ```
/// use foxreach_webhooks::{Event, EventData};
///
/// let body = br#"{"event":"lead.deleted","timestamp":"2026-01-01T00:00:00Z","data":{"leadId":"cld_1"}}"#;
/// let event = Event::from_slice(body)?;
/// assert_eq!(event.name(), "lead.deleted");
/// let EventData::Unknown(unknown) = &event.data else { unreachable!() };
/// assert_eq!(unknown.data["leadId"], "cld_1");
/// # Ok::<(), foxreach_webhooks::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnknownEvent {
    /// The event type's wire name, such as `"lead.deleted"`.
    pub event: String,
    /// The event's `data`, whatever JSON FoxReach sent.
    pub data: serde_json::Value,
}

impl UnknownEvent {
    /// An unknown event's data, for building events in tests.
    #[must_use]
    pub fn new(event: impl Into<String>, data: serde_json::Value) -> Self {
        Self { event: event.into(), data }
    }
}

/// Deserializes an event's `data` once its type name is known: straight into
/// the payload struct, with no intermediate `serde_json::Value`.
pub(crate) struct DataSeed<'a>(pub(crate) &'a str);

/// The error of parsing a string that is not one of FoxReach's documented
/// event type names into an [`EventType`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEventType {
    name: String,
}

impl UnknownEventType {
    /// The name that was not recognized.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for UnknownEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a FoxReach event type; the documented ones are ", self.name.escape_debug())?;
        for (i, event_type) in EventType::ALL.iter().enumerate() {
            f.write_str(if i == 0 { "" } else { ", " })?;
            f.write_str(event_type.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownEventType {}

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::from_wire(name).ok_or_else(|| UnknownEventType { name: name.to_owned() })
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let WireStr(name) = WireStr::deserialize(deserializer)?;
        Self::from_wire(&name).ok_or_else(|| de::Error::custom(UnknownEventType { name: name.into_owned() }))
    }
}

/// Builds the event from a body already read as a JSON object whose `event`
/// is a string: typed if its data can be, otherwise untyped. As the typed
/// parse does, a repeated key's last value counts (`serde_json::Map` keeps
/// the last), a missing `timestamp` is `null` and unknown fields are extra.
pub(super) fn from_object(mut object: Map<String, Value>, name: &str) -> Event {
    let timestamp = Timestamp::from_value(object.remove("timestamp").unwrap_or(Value::Null));
    object.remove("event");
    let data = object.remove("data").unwrap_or(Value::Null);
    let data = match DataSeed(name).deserialize(&data) {
        Ok(typed) => typed,
        // An unknown type takes any data, so this is a documented one.
        Err(_) => match name.parse::<EventType>() {
            Ok(event_type) => EventData::Untyped(UntypedEvent::new(event_type, data)),
            Err(_) => EventData::Unknown(UnknownEvent::new(name, data)),
        },
    };
    Event { timestamp, data, extra: object }
}
