//! Reading FoxReach's answers: the body (bounded), the error a status
//! means, FoxReach's message (without the key), `Retry-After`.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::Value;
use zeroize::Zeroizing;

use super::error::{ApiError, NetworkError};

/// The most of an answer the client reads: a page of webhooks is a few
/// kilobytes.
const MAX_ANSWER: usize = 4 << 20;

/// The most of FoxReach's message an error quotes, in characters.
const MAX_MESSAGE: usize = 300;

/// The body of `response`, at most [`MAX_ANSWER`] bytes, in a buffer wiped
/// on drop (the answer to a creation holds the secret).
pub(super) async fn body(
    mut response: reqwest::Response,
    network: impl Fn(reqwest::Error) -> ApiError,
) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    let status = response.status().as_u16();
    let too_large = || ApiError::Body { status, reason: format!("the answer is larger than {MAX_ANSWER} bytes") };
    if response.content_length().is_some_and(|length| length > MAX_ANSWER as u64) {
        return Err(too_large());
    }
    let mut body = Zeroizing::new(Vec::new());
    while let Some(chunk) = response.chunk().await.map_err(&network)? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(too_large());
        }
        // Grow by hand, so that no unwiped copy is left behind by a realloc.
        if body.capacity() < body.len() + chunk.len() {
            let mut bigger = Zeroizing::new(Vec::with_capacity((body.len() + chunk.len()).max(2 * body.capacity())));
            bigger.extend_from_slice(&body);
            body = bigger;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `T` from a 2xx answer's JSON, or [`ApiError::Body`] naming the path of
/// the field at fault.
pub(super) fn parse<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, ApiError> {
    let reader = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(reader).map_err(|error| {
        // serde_json's messages quote no input; the path names the field.
        let path = error.path().to_string();
        ApiError::Body { status, reason: format!("at `{path}`: {}", error.into_inner()) }
    })
}

/// The error a non-2xx, non-429 answer means. `key` is replaced in any
/// message quoted; `sent_events` are the event names the request sent,
/// which a 422 may name.
pub(super) fn refusal(status: u16, body: &[u8], key: &str, sent_events: &[String]) -> ApiError {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let message = message(json.as_ref(), body).map(|text| tidy(&text, key));
    match status {
        401 => ApiError::Unauthorized,
        404 => ApiError::NotFound { message },
        422 => {
            let mut in_answer = Vec::new();
            if let Some(json) = &json {
                strings(json, &mut |text| in_answer.push(text.to_owned()));
            }
            // In the order they were sent, once each.
            let mut unknown_events: Vec<String> = Vec::new();
            for name in sent_events {
                if in_answer.contains(name) && !unknown_events.contains(name) {
                    unknown_events.push(name.clone());
                }
            }
            ApiError::Rejected { unknown_events, message }
        }
        status => ApiError::Status { status, message },
    }
}

/// Every JSON string in `value`, depth first.
fn strings(value: &Value, found: &mut impl FnMut(&str)) {
    match value {
        Value::String(text) => found(text),
        Value::Array(items) => items.iter().for_each(|item| strings(item, found)),
        Value::Object(fields) => fields.values().for_each(|field| strings(field, found)),
        _ => {}
    }
}

/// FoxReach's message: `detail` (a string, or FastAPI's list of
/// `{"msg"}`), `message` or `error` (a string or `{"message"}`); for an
/// answer that is not JSON, its text.
fn message(json: Option<&Value>, body: &[u8]) -> Option<String> {
    let Some(json) = json else {
        let text = String::from_utf8_lossy(body);
        return Some(text.trim().to_owned()).filter(|text| !text.is_empty());
    };
    let text_of = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Object(fields) => {
            fields.get("message").or_else(|| fields.get("msg")).and_then(Value::as_str).map(str::to_owned)
        }
        Value::Array(items) => {
            let messages: Vec<&str> = items.iter().filter_map(|item| item.get("msg").and_then(Value::as_str)).collect();
            (!messages.is_empty()).then(|| messages.join("; "))
        }
        _ => None,
    };
    ["detail", "message", "error"]
        .iter()
        .find_map(|key| json.get(key).and_then(text_of))
        .filter(|text| !text.is_empty())
}

/// `text` without the API key, its control characters escaped, at most
/// [`MAX_MESSAGE`] characters.
fn tidy(text: &str, key: &str) -> String {
    let redacted = if key.is_empty() { text.to_owned() } else { text.replace(key, "[redacted]") };
    let mut tidy = String::with_capacity(redacted.len().min(MAX_MESSAGE + 8));
    for (count, c) in redacted.chars().enumerate() {
        if count == MAX_MESSAGE {
            tidy.push('…');
            break;
        }
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            tidy.extend(c.escape_default());
        } else {
            tidy.push(c);
        }
    }
    tidy
}

/// `Retry-After` in seconds (the HTTP-date form is not read: FoxReach's
/// window is a minute, which the caller assumes then).
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The error for a failure of the HTTP client.
pub(super) fn network(error: reqwest::Error, timeout: Duration) -> ApiError {
    if error.is_timeout() { ApiError::Timeout { after: timeout } } else { ApiError::Network(NetworkError(error)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn a_422_names_the_sent_events_the_answer_names_and_only_those() {
        let body = br#"{"detail":[{"loc":["body","events",1],"msg":"Input should be 'email.sent' or ...","input":"lead.deleted"}]}"#;
        let error = refusal(422, body, "otr_key", &sent(&["email.sent", "lead.deleted"]));
        let ApiError::Rejected { unknown_events, message } = error else { panic!("{error:?}") };
        assert_eq!(unknown_events, ["lead.deleted"]);
        assert_eq!(message.as_deref(), Some("Input should be 'email.sent' or ..."));
    }

    #[test]
    fn a_422_without_names_keeps_the_message_and_text_answers_are_quoted() {
        let error = refusal(422, b"Invalid webhook\n\x1b[31m", "otr_key", &sent(&["email.sent"]));
        let ApiError::Rejected { unknown_events, message } = error else { panic!("{error:?}") };
        assert!(unknown_events.is_empty());
        assert_eq!(message.as_deref(), Some("Invalid webhook\\n\\u{1b}[31m"));
    }

    #[test]
    fn the_key_is_never_quoted_and_long_messages_are_cut() {
        let body = br#"{"message":"key otr_secret_key is not valid for otr_secret_key"}"#;
        let error = refusal(500, body, "otr_secret_key", &[]);
        assert_eq!(error.to_string(), "FoxReach answered 500: key [redacted] is not valid for [redacted]");
        let long = format!(r#"{{"error":{{"message":"{}"}}}}"#, "x".repeat(1000));
        let ApiError::Status { message: Some(message), .. } = refusal(503, long.as_bytes(), "k", &[]) else {
            panic!("a status error with a message")
        };
        assert_eq!(message.chars().count(), MAX_MESSAGE + 1);
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, "7".parse().expect("a header value"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("a header value"));
        assert_eq!(retry_after(&headers), None);
    }
}
