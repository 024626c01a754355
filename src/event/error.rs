//! Why a verified body is not a FoxReach event.

use std::fmt;

use serde_json::error::Category;

/// Why a body could not be parsed as a FoxReach event: what was wrong and
/// where, as a JSON path (`data.sequenceStep`) and a line and column.
///
/// Messages describe the JSON, never a secret, a signature or a value from
/// the body: of serde's messages, which quote the value they refuse, only
/// the kind of value is kept (`invalid type: string, expected …`).
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
    /// The body is JSON but not an event of the shape FoxReach documents
    /// (`422 Unprocessable Entity`): not an object with a string `event`
    /// or, for the strict [`Event::from_slice`](super::Event::from_slice)
    /// only, data without its ids.
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
            ParseErrorKind::Data => {
                write!(f, "body is not a FoxReach event: wrong shape at `{}`", self.path)?;
                return write!(f, " (line {line}, column {column}): {}", without_values(message));
            }
        }
        write!(f, " (line {line}, column {column}): {message}")
    }
}

/// serde's message for a value of the wrong shape, without the value it
/// quotes (`invalid type: string "…", expected …` names the kind only):
/// the message is logged and answered, and the value is FoxReach's data.
fn without_values(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            // serde names the kind and quotes the value in `…` or "…", then
            // says what it expected (text of this crate, which may hold
            // backticks itself): cut there first, at the last ", expected".
            let at = rest.rfind(", expected ").unwrap_or(rest.len());
            let (found, expected) = rest.split_at(at);
            let kind = found.split(['`', '"']).next().unwrap_or_default().trim_end();
            return format!("{prefix}{kind}{expected}");
        }
    }
    for prefix in ["unknown variant ", "unknown field "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let expected = rest.rfind(", expected ").map_or("", |at| &rest[at..]);
            return format!("{}{expected}", prefix.trim_end());
        }
    }
    message.to_owned()
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// What [`Display`](fmt::Display) shows, field by field: never a value from
/// the body.
impl fmt::Debug for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParseError")
            .field("kind", &self.kind())
            .field("path", &self.path)
            .field("line", &self.line())
            .field("column", &self.column())
            .field("message", &self.to_string())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::Event;

    #[test]
    fn messages_name_the_kind_of_a_value_never_the_value() {
        for body in [
            &br#""a lead's private note""#[..],
            br#"{"event":"private-value-1","timestamp":"t","data":[]}"#,
            br#"{"event":["private-value-2"],"timestamp":"t","data":{}}"#,
            br#"{"event":"email.sent","timestamp":"t","data":{"emailLogId":{"x":"private-value-3"}}}"#,
            br#"{"event":"email.bounced","timestamp":"t","data":{"emailLogId":"c","campaignId":"c","leadId":"c","bounceType":["private-value-4"]}}"#,
        ] {
            match Event::from_slice(body) {
                Err(err) => {
                    let (shown, debug) = (err.to_string(), format!("{err:?}"));
                    assert!(!shown.contains("private") && !debug.contains("private"), "{shown} / {debug}");
                }
                Ok(event) => assert!(!format!("{event:?}").is_empty(), "parsed: {body:?}"),
            }
        }
        let expected = "expected a FoxReach event object with `event`, `timestamp` and `data`";
        let err = Event::from_slice(br#""a lead's private note""#).expect_err("not an object");
        assert!(err.to_string().ends_with(&format!("invalid type: string, {expected}")), "{err}");
        // A kind serde does not quote (a sequence, a map, null) keeps the message whole.
        let err = Event::from_slice(b"[]").expect_err("not an object");
        assert!(err.to_string().ends_with(&format!("invalid type: sequence, {expected}")), "{err}");
        let err = Event::from_slice(b"null").expect_err("not an object");
        assert!(err.to_string().ends_with(&format!("invalid type: null, {expected}")), "{err}");
    }
}
