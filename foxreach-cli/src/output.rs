//! What a command answers, for people (text, tables) and for scripts (one
//! JSON document), and the cleaning that keeps a body's text from driving
//! the terminal.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::process::ExitCode;
use std::time::SystemTime;

use foxreach_inbox::{Entry, State};
use foxreach_webhooks::tenant::Tenant;
use serde_json::{Value, json};

/// A command's answer in both forms; `main` prints the one asked for.
#[derive(Debug)]
pub(crate) struct Report {
    text: String,
    json: Value,
    /// 0, or 1 when the answer is "no" (an invalid signature, a non-2xx
    /// answer): the output is still the result, not an error.
    code: u8,
}

impl Report {
    pub(crate) fn new(text: impl Into<String>, json: Value) -> Self {
        Self { text: text.into(), json, code: 0 }
    }

    /// The same answer, meaning "no": exit status 1.
    pub(crate) fn negative(self) -> Self {
        Self { code: 1, ..self }
    }

    /// Prints it on stdout and gives the exit status.
    pub(crate) fn print(self, as_json: bool) -> ExitCode {
        let mut out = if as_json {
            // Serializing a `Value` cannot fail; an empty document would be
            // the only fallback anyway.
            serde_json::to_string_pretty(&self.json).unwrap_or_default()
        } else {
            self.text
        };
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        let mut stdout = io::stdout().lock();
        match stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush()) {
            // A reader that stopped early (`| head`) took what it wanted.
            Ok(()) => ExitCode::from(self.code),
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(self.code),
            Err(error) => {
                note(&format!("error: cannot write the output: {error}"));
                ExitCode::from(4)
            }
        }
    }
}

/// A line on stderr: a warning, a hint, or the error. Nothing to do if
/// stderr itself is gone.
pub(crate) fn note(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// `text` with control characters (and the bidirectional overrides that
/// reorder what a terminal shows) escaped: event types, reasons and
/// answers come from outside, and must not move the cursor or recolour the
/// screen. With `keep_lines`, newlines and tabs stay.
pub(crate) fn clean(text: &str, keep_lines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && !(keep_lines && matches!(c, '\n' | '\t' | '\r')))
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.contains(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut cleaned = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            cleaned.extend(c.escape_default());
        } else {
            cleaned.push(c);
        }
    }
    Cow::Owned(cleaned)
}

/// RFC 3339 in UTC, to the millisecond: what the JSON and `show` print.
pub(crate) fn time(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

pub(crate) fn time_seconds(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

/// An entry for scripts. The key is its fingerprint, never the MAC; the
/// body is there only if it was asked for (as text, lossily).
pub(crate) fn entry_json(entry: &Entry, with_body: bool) -> Value {
    let mut value = json!({
        "id": entry.id.0,
        "state": entry.state.as_str(),
        "key": entry.key.to_string(),
        "event_type": entry.event_type,
        "timestamp": entry.timestamp,
        "tenant": entry.tenant.as_ref().map(Tenant::as_str),
        "received_at": time(entry.received_at),
        "attempts": entry.attempts,
        "due_at": entry.due_at.map(time),
        "reason": entry.reason,
        "settled_at": entry.settled_at.map(time),
        "size": entry.size,
    });
    if with_body && let (Some(body), Value::Object(fields)) = (&entry.body, &mut value) {
        fields.insert("body".to_owned(), Value::String(String::from_utf8_lossy(body).into_owned()));
    }
    value
}

/// The most of a reason a table row shows; `inbox show` has it whole.
const REASON_WIDTH: usize = 60;

/// Entries as a table, one line each, columns aligned.
pub(crate) fn entry_table(entries: &[Entry]) -> String {
    let rows = entries.iter().map(|entry| {
        vec![
            entry.id.to_string(),
            entry.state.to_string(),
            entry.event_type.as_deref().map_or_else(|| "-".to_owned(), |event| clean(event, false).into_owned()),
            entry.timestamp.as_deref().map_or_else(|| "-".to_owned(), |at| clean(at, false).into_owned()),
            time_seconds(entry.received_at),
            entry.attempts.to_string(),
            entry.reason.as_deref().map_or_else(String::new, |reason| shorten(&clean(reason, false))),
        ]
    });
    table(&["ID", "STATE", "EVENT", "TIMESTAMP", "RECEIVED", "ATTEMPTS", "REASON"], rows, &[0, 5])
}

/// A header and rows as columns aligned with two spaces between them; the
/// columns in `right` aligned right (numbers), the others left. Cells must
/// be clean already.
pub(crate) fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>, right: &[usize]) -> String {
    let header: Vec<String> = header.iter().map(|title| (*title).to_owned()).collect();
    let rows: Vec<Vec<String>> = rows.into_iter().collect();
    let mut widths: Vec<usize> = header.iter().map(|title| title.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut table = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (column, (cell, &width)) in row.iter().zip(&widths).enumerate() {
            if right.contains(&column) {
                let _ = write!(line, "{cell:>width$}  ");
            } else {
                let _ = write!(line, "{cell:<width$}  ");
            }
        }
        table.push_str(line.trim_end());
        table.push('\n');
    }
    table
}

fn shorten(reason: &str) -> String {
    if reason.chars().count() <= REASON_WIDTH {
        return reason.to_owned();
    }
    let mut short: String = reason.chars().take(REASON_WIDTH - 1).collect();
    short.push('…');
    short
}

/// Every field of one entry, one per line; the body after them when asked.
pub(crate) fn entry_text(entry: &Entry, with_body: bool) -> String {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    let due_label = if entry.state == State::Taken { "lease ends" } else { "due at" };
    let fields = [
        ("id", entry.id.to_string()),
        ("state", entry.state.to_string()),
        ("key", format!("{} (fingerprint)", entry.key)),
        ("event type", or_dash(entry.event_type.as_deref().map(|event| clean(event, false).into_owned()))),
        ("timestamp", or_dash(entry.timestamp.as_deref().map(|at| clean(at, false).into_owned()))),
        ("tenant", or_dash(entry.tenant.as_ref().map(Tenant::to_string))),
        ("received at", time(entry.received_at)),
        ("attempts", entry.attempts.to_string()),
        (due_label, or_dash(entry.due_at.map(time))),
        ("reason", or_dash(entry.reason.as_deref().map(|reason| clean(reason, false).into_owned()))),
        ("settled at", or_dash(entry.settled_at.map(time))),
        ("size", format!("{} bytes", entry.size)),
    ];
    let mut text = String::new();
    for (name, value) in fields {
        let _ = writeln!(text, "{name:<12} {value}");
    }
    match (&entry.body, with_body) {
        (Some(body), true) => {
            text.push('\n');
            text.push_str(&clean(&String::from_utf8_lossy(body), true));
        }
        _ => text.push_str("body         not shown (add --body)\n"),
    }
    text
}
