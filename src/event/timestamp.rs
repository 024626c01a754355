//! The event's `timestamp`, kept exactly as FoxReach wrote it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// When FoxReach says the event happened: an RFC 3339 date-time in UTC, such
/// as `2025-01-15T10:30:00Z`.
///
/// The original string is kept and written back unchanged, and reading it as
/// an instant is a separate, fallible step: a signed delivery whose timestamp
/// FoxReach formats unexpectedly still reaches the application. It is the only
/// signed time in a delivery (there is no timestamp header).
///
/// # Example
///
/// ```
/// use foxreach_webhooks::event::Timestamp;
///
/// let timestamp = Timestamp::new("2025-01-15T10:30:00Z");
/// assert_eq!(timestamp.instant()?.unix_timestamp(), 1_736_937_000);
/// assert!(Timestamp::new("yesterday").instant().is_err());
/// # Ok::<(), foxreach_webhooks::event::TimestampError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp(String);

impl Timestamp {
    /// A timestamp from its wire string, as FoxReach would write it.
    #[must_use]
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The timestamp exactly as it appeared in the body.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The instant the timestamp names.
    ///
    /// # Errors
    ///
    /// [`TimestampError`] if the string is not an RFC 3339 date-time.
    pub fn instant(&self) -> Result<OffsetDateTime, TimestampError> {
        OffsetDateTime::parse(&self.0, &Rfc3339).map_err(TimestampError)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// A [`Timestamp`] that is not an RFC 3339 date-time.
#[derive(Debug)]
pub struct TimestampError(time::error::Parse);

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event timestamp is not an RFC 3339 date-time: {}", self.0)
    }
}

impl std::error::Error for TimestampError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}
