//! Events of a documented type whose data cannot be typed, and the lenient
//! parse's slow path that builds them from a `serde_json::Value`.

use std::fmt;

use serde_json::Value;

use super::EventType;
use super::lenient::is_id;

/// The data of an event of a documented type that could not be typed: a
/// required id is missing, `null` or not an id, or `data` is not an object.
///
/// [`Event::from_slice_lenient`](super::Event::from_slice_lenient) gives it rather than refusing a signed
/// delivery, so that the application still sees it (the `Handler`'s
/// `untyped` method, with feature `delivery`). Serializing the event writes
/// the raw data back.
///
/// # Example
///
/// ```
/// use foxreach_webhooks::{Event, EventData, EventType};
///
/// let body = br#"{"event":"campaign.completed","timestamp":"2025-02-01T18:00:00Z","data":null}"#;
/// let event = Event::from_slice_lenient(body)?;
/// let EventData::Untyped(untyped) = &event.data else { unreachable!() };
/// assert_eq!(untyped.event_type, EventType::CampaignCompleted);
/// assert_eq!(untyped.reason.to_string(), "`data` is missing or null");
/// assert!(Event::from_slice(body).is_err(), "the strict parse refuses it");
/// # Ok::<(), foxreach_webhooks::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UntypedEvent {
    /// The event's documented type.
    pub event_type: EventType,
    /// The event's `data` exactly as sent; `null` if the body had none.
    pub data: Value,
    /// Why the data could not be typed.
    pub reason: UntypedReason,
}

impl UntypedEvent {
    /// An untyped event of `event_type` with this raw `data`, its reason found
    /// as the lenient parse finds it. For building events in tests.
    ///
    /// ```
    /// use foxreach_webhooks::EventType;
    /// use foxreach_webhooks::event::UntypedEvent;
    ///
    /// let untyped = UntypedEvent::new(EventType::LeadUpdated, serde_json::json!({"leadId": true}));
    /// assert_eq!(untyped.reason.to_string(), "`data.leadId` is not an id (a string or an integer)");
    /// ```
    #[must_use]
    pub fn new(event_type: EventType, data: Value) -> Self {
        let reason = UntypedReason::of(event_type, &data);
        Self { event_type, data, reason }
    }
}

/// Why an event's data could not be typed, naming the field's path
/// (`data.leadId`) but never a value from the body, so that it can be logged.
///
/// An error, so that a handler can fail the event with it:
/// `HandlerError::permanent(untyped.reason)` (feature `delivery`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntypedReason(Cause);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Cause {
    /// `data` is absent or not an object; what it is instead (an absent one
    /// is `null`, as it is written back).
    NotAnObject(&'static str),
    /// A required id is absent or `null`.
    Missing(&'static str),
    /// A required id is neither a string nor an integer.
    NotAnId(&'static str),
    /// None of the above, yet typing failed: a bug of this crate.
    Unexplained,
}

impl UntypedReason {
    /// What is wrong with `data` for `event_type`, checked in the order a
    /// person would fix it: the object first, then each id in turn.
    fn of(event_type: EventType, data: &Value) -> Self {
        let Value::Object(fields) = data else {
            return Self(Cause::NotAnObject(json_kind(data)));
        };
        for &id in event_type.required_fields() {
            match fields.get(id) {
                None | Some(Value::Null) => return Self(Cause::Missing(id)),
                Some(value) if !is_id(value) => return Self(Cause::NotAnId(id)),
                Some(_) => {}
            }
        }
        Self(Cause::Unexplained)
    }

    /// The JSON path of the field at fault: `data`, or `data.` and a wire
    /// name such as `data.leadId`.
    #[must_use]
    pub fn path(&self) -> String {
        match self.0 {
            Cause::NotAnObject(_) | Cause::Unexplained => "data".to_owned(),
            Cause::Missing(id) | Cause::NotAnId(id) => format!("data.{id}"),
        }
    }
}

impl fmt::Display for UntypedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Cause::NotAnObject("null") => f.write_str("`data` is missing or null"),
            Cause::NotAnObject(found) => write!(f, "`data` is not an object (found {found})"),
            Cause::Missing(id) => write!(f, "`data.{id}` is missing or null"),
            Cause::NotAnId(id) => write!(f, "`data.{id}` is not an id (a string or an integer)"),
            Cause::Unexplained => f.write_str("`data` could not be typed"),
        }
    }
}

impl std::error::Error for UntypedReason {}

/// The kind of a JSON value, for a message that must not quote it.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A copy of `body` in which every `\u` escape of a lone UTF-16 surrogate
/// inside a JSON string is `\uFFFD` (the replacement character), or `None`
/// if there is none. serde_json refuses lone surrogates, which JavaScript
/// and Python write for text cut in the middle of an emoji. Escapes are
/// scanned in order, so `\\ud83d` (an escaped backslash, then text) is left
/// alone; each replacement has the same length as what it replaces.
pub(super) fn repair_surrogates(body: &[u8]) -> Option<Vec<u8>> {
    let mut repaired: Option<Vec<u8>> = None;
    let (mut i, mut in_string) = (0, false);
    while i < body.len() {
        match (body[i], in_string) {
            (b'"', _) => in_string = !in_string,
            (b'\\', true) if body.get(i + 1) == Some(&b'u') => {
                let Some(unit) = hex4(body, i + 2) else {
                    i += 2;
                    continue;
                };
                let paired = (0xD800..0xDC00).contains(&unit)
                    && body.get(i + 6..i + 8) == Some(b"\\u")
                    && hex4(body, i + 8).is_some_and(|low| (0xDC00..0xE000).contains(&low));
                if paired {
                    i += 12;
                    continue;
                }
                if (0xD800..0xE000).contains(&unit) {
                    let copy = repaired.get_or_insert_with(|| body.to_vec());
                    copy[i + 2..i + 6].copy_from_slice(b"FFFD");
                }
                i += 6;
                continue;
            }
            // Any other escape is two bytes: skip the escaped one (it may be a quote).
            (b'\\', true) => i += 1,
            _ => {}
        }
        i += 1;
    }
    repaired
}

/// The four hex digits at `at`, as a UTF-16 code unit.
fn hex4(body: &[u8], at: usize) -> Option<u32> {
    let digits = body.get(at..at + 4)?;
    let digits = std::str::from_utf8(digits).ok()?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}
