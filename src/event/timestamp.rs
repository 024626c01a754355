//! The event's `timestamp`, kept exactly as FoxReach wrote it.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// When FoxReach says the event happened, as it wrote it: the webhook docs
/// show an RFC 3339 date-time in UTC such as `2025-01-15T10:30:00Z`.
///
/// The value is kept as sent and written back unchanged, whatever JSON it
/// is (a string, a number, even `null` when the body has none), and reading
/// it as an instant is a separate, fallible step: a signed delivery whose
/// timestamp FoxReach formats unexpectedly still reaches the application. It
/// is the only signed time in a delivery (there is no timestamp header).
///
/// # Example
///
/// ```
/// use foxreach_webhooks::event::Timestamp;
///
/// let timestamp = Timestamp::new("2025-01-15T10:30:00Z");
/// assert_eq!(timestamp.instant()?.unix_timestamp(), 1_736_937_000);
/// // FoxReach's API writes UTC without an offset; Unix seconds are read too.
/// assert_eq!(Timestamp::new("2025-01-15T10:30:00").instant()?, timestamp.instant()?);
/// let number = Timestamp::from_value(serde_json::json!(1_736_937_000));
/// assert_eq!((number.as_str(), number.instant()?), ("1736937000", timestamp.instant()?));
/// assert!(Timestamp::new("yesterday").instant().is_err());
/// # Ok::<(), foxreach_webhooks::event::TimestampError>(())
/// ```
#[derive(Debug, Clone, Eq)]
pub struct Timestamp(Raw);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Raw {
    /// A JSON string, the documented form.
    Text(String),
    /// Any other JSON value, with its JSON text for [`Timestamp::as_str`];
    /// boxed so that the common case keeps events (and payloads holding
    /// date-times) small.
    Json(Box<(Value, String)>),
}

impl Timestamp {
    /// A timestamp from its wire string, as FoxReach would write it.
    #[must_use]
    pub fn new(raw: impl Into<String>) -> Self {
        Self(Raw::Text(raw.into()))
    }

    /// A timestamp from any JSON value, as it appeared in the body: a string
    /// is the same as [`new`](Self::new); a number is read as Unix seconds.
    #[must_use]
    pub fn from_value(value: Value) -> Self {
        match value {
            Value::String(text) => Self::new(text),
            value => {
                let text = value.to_string();
                Self(Raw::Json(Box::new((value, text))))
            }
        }
    }

    /// The timestamp as it appeared in the body: the string exactly, or for
    /// a value that is not a string its JSON text as serde_json writes it
    /// (`1736937000`, `null`; `2.50` becomes `2.5`).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Raw::Text(text) => text,
            Raw::Json(json) => &json.1,
        }
    }

    /// Whether the body's `timestamp` was a JSON string, as documented.
    #[must_use]
    pub fn is_string(&self) -> bool {
        matches!(self.0, Raw::Text(_))
    }

    /// The timestamp as the JSON value it was in the body (`null` if the body
    /// had none).
    #[must_use]
    pub fn to_value(&self) -> Value {
        match &self.0 {
            Raw::Text(text) => Value::String(text.clone()),
            Raw::Json(json) => json.0.clone(),
        }
    }

    /// The instant the timestamp names. Read are:
    ///
    /// - RFC 3339, with any offset, fractional seconds, a lowercase `t` or
    ///   `z`, or a space between date and time (`2025-01-15T11:00:00+01:00`);
    /// - ISO 8601 without an offset, read as UTC (`2025-01-15T10:00:00`, as
    ///   FoxReach's API writes its own dates, and `2025-01-15T10:00:00.123456`,
    ///   as Python's `isoformat()` does);
    /// - a JSON number, as Unix seconds (`1736935200`, `1736935200.5`).
    ///
    /// Not read: a string of digits (`"1736935200"`, though `as_str` shows a
    /// number the same way), milliseconds since the epoch, a leap second
    /// (`23:59:60`), an offset without its colon (`+0100`).
    ///
    /// # Errors
    ///
    /// [`TimestampError`] if the timestamp is none of these.
    pub fn instant(&self) -> Result<OffsetDateTime, TimestampError> {
        match &self.0 {
            Raw::Text(text) => parse_text(text),
            Raw::Json(json) => {
                let Value::Number(number) = &json.0 else { return Err(TimestampError(Cause::NotADateTime)) };
                let instant = match (number.as_i64(), number.as_f64()) {
                    (Some(seconds), _) => OffsetDateTime::from_unix_timestamp(seconds).ok(),
                    (None, Some(seconds)) => unix_nanos(seconds * 1e9),
                    (None, None) => None,
                };
                instant.ok_or(TimestampError(Cause::OutOfRange))
            }
        }
    }
}

/// Unix nanoseconds given as a float, if they name a representable instant.
#[allow(clippy::cast_possible_truncation)]
fn unix_nanos(nanos: f64) -> Option<OffsetDateTime> {
    // `as` saturates, and the range check below refuses the saturated ends.
    let nanos = nanos.round() as i128;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

fn parse_text(text: &str) -> Result<OffsetDateTime, TimestampError> {
    // RFC 3339 allows a space or a lowercase `t` between date and time and a
    // lowercase `z`; older `time` releases accept only `T` and `Z`, so the
    // text is put in that form first (a copy only when it differs).
    let bytes = text.as_bytes();
    let odd_separator = bytes.get(10).is_some_and(|&b| b == b' ' || b == b't');
    let normalized = match (odd_separator, bytes.last() == Some(&b'z')) {
        (false, false) => std::borrow::Cow::Borrowed(text),
        (separator, zulu) => {
            let mut owned = text.to_owned();
            if separator {
                // An ASCII byte, so a character boundary.
                owned.replace_range(10..11, "T");
            }
            if zulu {
                owned.pop();
                owned.push('Z');
            }
            std::borrow::Cow::Owned(owned)
        }
    };
    let rfc3339 = match OffsetDateTime::parse(&normalized, &Rfc3339) {
        Ok(instant) => return Ok(instant),
        Err(err) => err,
    };
    // Without an offset (FoxReach's API, Python's `isoformat()`), the time is
    // UTC: read it as RFC 3339 with `Z`. A text that had an offset stays
    // refused, `Z` after it being no date-time.
    OffsetDateTime::parse(&format!("{normalized}Z"), &Rfc3339).map_err(|_| TimestampError(Cause::Text(rfc3339)))
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Hash for Timestamp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal values may differ in JSON text (key order), so only the kind
        // of a non-string value is hashed.
        match &self.0 {
            Raw::Text(text) => text.hash(state),
            Raw::Json(_) => state.write_u8(0xff),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Raw::Text(text) => serializer.serialize_str(text),
            Raw::Json(json) => json.0.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A string costs the same through `Value` as through `String`.
        Value::deserialize(deserializer).map(Self::from_value)
    }
}

/// A [`Timestamp`] that names no instant this crate can read (see
/// [`Timestamp::instant`] for the forms it reads). The message does not
/// quote the timestamp.
#[derive(Debug)]
pub struct TimestampError(Cause);

#[derive(Debug)]
enum Cause {
    /// A string in none of the forms; the error of reading it as RFC 3339.
    Text(time::error::Parse),
    /// A number of seconds outside the years `time` represents.
    OutOfRange,
    /// Neither a string nor a number.
    NotADateTime,
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Cause::Text(err) => {
                write!(f, "event timestamp is neither RFC 3339 nor ISO 8601 without an offset (read as UTC): {err}")
            }
            Cause::OutOfRange => f.write_str(
                "event timestamp is a number of Unix seconds out of range (milliseconds would be 1,000 times too large)",
            ),
            Cause::NotADateTime => {
                f.write_str("event timestamp is neither a string (RFC 3339 or ISO 8601) nor a number (Unix seconds)")
            }
        }
    }
}

impl std::error::Error for TimestampError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Cause::Text(err) => Some(err),
            Cause::OutOfRange | Cause::NotADateTime => None,
        }
    }
}
