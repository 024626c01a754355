//! Between Rust values and what the scripts take and return: times in
//! Unix milliseconds, entry numbers as strings, entries as hash fields.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::{Entry, EntryId, InboxError, State, Taken};
use foxreach_webhooks::delivery::DeliveryKey;
use foxreach_webhooks::tenant::Tenant;

pub(super) fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

pub(super) fn from_millis(at: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(at)
}

/// What the take script returns per entry: origin, attempt, try number,
/// since, key, body, received at, tenant (`-` or `=` then the name).
pub(super) type TakenRow = (String, u32, u32, u64, String, Vec<u8>, u64, String);

/// A tenant as the scripts keep it: `-` for none, or `=` then the name.
pub(super) fn stored_tenant(value: &str) -> Option<Tenant> {
    value.strip_prefix('=').map(Tenant::stored)
}

/// An entry's number, as the scripts return it.
pub(super) fn entry_id(id: &str) -> Result<EntryId, InboxError> {
    id.parse().map(EntryId).map_err(|_| InboxError::new(format!("not an entry number: {id}")))
}

pub(super) fn number(id: EntryId) -> String {
    id.0.to_string()
}

pub(super) fn optional(value: Option<&str>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("={value}"))
}

/// An entry from its id and its hash's fields (the body's length as
/// `size`), as the list script returns it.
pub(super) fn entry_from(row: &[String], body: Option<Bytes>) -> Result<Entry, InboxError> {
    let (id, fields) = row.split_first().ok_or_else(|| InboxError::new("an empty row"))?;
    let field =
        |name: &str| fields.chunks(2).find(|pair| pair[0] == name).and_then(|pair| pair.get(1)).map(String::as_str);
    let number = |name: &str| field(name).and_then(|value| value.parse::<u64>().ok());
    let state = match field("state") {
        Some("pending") => State::Pending,
        Some("taken") => State::Taken,
        Some("done") => State::Done,
        Some("dead") => State::Dead,
        _ => return Err(InboxError::new(format!("entry {id} has no known state"))),
    };
    let key = field("key")
        .and_then(DeliveryKey::from_signature)
        .ok_or_else(|| InboxError::new("a stored key is not 64 hex digits"))?;
    let text = |name: &str| field(name).and_then(|value| value.strip_prefix('=')).map(str::to_owned);
    Ok(Entry {
        id: entry_id(id)?,
        state,
        key,
        event_type: text("event_type"),
        timestamp: text("timestamp"),
        tenant: stored_tenant(field("tenant").unwrap_or("-")),
        received_at: from_millis(number("received_at").unwrap_or(0)),
        attempts: u32::try_from(number("attempts").unwrap_or(0)).unwrap_or(u32::MAX),
        due_at: matches!(state, State::Pending | State::Taken).then(|| number("due_at").map(from_millis)).flatten(),
        reason: field("reason").map(str::to_owned),
        settled_at: number("settled_at").map(from_millis),
        size: usize::try_from(number("size").unwrap_or(0)).unwrap_or(0),
        body,
    })
}

/// An entry with its body, from its hash's fields as `HGETALL` gives them.
pub(super) fn entry_with_body(id: EntryId, fields: &[Vec<u8>]) -> Result<Entry, InboxError> {
    let mut row = vec![number(id)];
    let mut body = None;
    for pair in fields.chunks(2) {
        let [name, value] = pair else { continue };
        if name.as_slice() == b"body" {
            row.push("size".to_owned());
            row.push(value.len().to_string());
            body = Some(Bytes::copy_from_slice(value));
        } else {
            row.push(String::from_utf8_lossy(name).into_owned());
            row.push(String::from_utf8_lossy(value).into_owned());
        }
    }
    entry_from(&row, body)
}

/// A taken entry, from what the take script returns for it.
pub(super) fn taken_from(row: TakenRow) -> Result<Taken, InboxError> {
    let (origin, attempt, try_number, since, key, body, received_at, tenant) = row;
    let key = DeliveryKey::from_signature(&key).ok_or_else(|| InboxError::new("a stored key is not 64 hex digits"))?;
    let taken = Taken::new(
        entry_id(&origin)?,
        (attempt, try_number),
        from_millis(since),
        key,
        Bytes::from(body),
        from_millis(received_at),
    );
    Ok(taken.with_tenant(stored_tenant(&tenant)))
}
