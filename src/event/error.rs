//! Why a verified body is not a FoxReach event.

use std::fmt;

use serde_json::error::Category;

/// Why a body could not be parsed as a FoxReach event: what was wrong and
/// where, as a JSON path (`data.sequenceStep`) and a line and column.
///
/// Messages describe the JSON, never a secret or a signature; like serde's
/// own, they may quote a short value from the body.
///
/// # Example
///
/// ```
/// use foxreach_webhooks::event::{Event, ParseErrorKind};
///
/// let err = Event::from_slice(br#"{"event":"email.sent","timestamp":"2025-01-15T10:30:00Z",
///     "data":{"campaignId":"cmp_456","leadId":"cld_789"}}"#).unwrap_err();
/// assert_eq!(err.kind(), ParseErrorKind::Data);
/// assert_eq!(err.path(), "data");
/// assert!(err.to_string().contains("missing field `emailLogId`"));
/// ```
#[derive(Debug)]
pub struct ParseError {
    path: String,
    source: serde_json::Error,
}

/// The broad reason behind a [`ParseError`], which decides the HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The body is not JSON (`400 Bad Request`).
    Syntax,
    /// The body ends before the JSON does: empty or truncated (`400 Bad Request`).
    Eof,
    /// The body is JSON but not an event of the shape FoxReach documents:
    /// a missing id, a field of the wrong type (`422 Unprocessable Entity`).
    Data,
}

impl ParseError {
    pub(crate) fn new(path: String, source: serde_json::Error) -> Self {
        Self { path, source }
    }

    /// The broad reason: not JSON, cut short, or the wrong shape.
    #[must_use]
    pub fn kind(&self) -> ParseErrorKind {
        match self.source.classify() {
            Category::Data => ParseErrorKind::Data,
            Category::Eof => ParseErrorKind::Eof,
            Category::Syntax | Category::Io => ParseErrorKind::Syntax,
        }
    }

    /// Where in the JSON the error is, such as `data.sequenceStep`; `.` for
    /// the top level.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The 1-based line of the body where the error was noticed.
    #[must_use]
    pub fn line(&self) -> usize {
        self.source.line()
    }

    /// The 1-based column of the body where the error was noticed.
    #[must_use]
    pub fn column(&self) -> usize {
        self.source.column()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, column) = (self.line(), self.column());
        // serde_json appends the position to its message; it is written here in our own words.
        let message = self.source.to_string();
        let message = message.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(&message);
        match self.kind() {
            ParseErrorKind::Syntax => f.write_str("body is not valid JSON")?,
            ParseErrorKind::Eof => f.write_str("body ends before its JSON does (empty or truncated)")?,
            ParseErrorKind::Data => write!(f, "body is not a FoxReach event: wrong shape at `{}`", self.path)?,
        }
        write!(f, " (line {line}, column {column}): {message}")
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}
