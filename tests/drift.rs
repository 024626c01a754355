//! The lenient parse: a verified JSON object whose `event` is a string always
//! reaches the application, its fields degraded rather than refused.

use std::hash::{Hash, Hasher};

use foxreach_webhooks::event::{EmailSent, ParseErrorKind, ReplyReceived, Timestamp, UntypedEvent};
use foxreach_webhooks::{Event, EventData, EventType};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Parses leniently, checks that serializing and reparsing gives an equal
/// event, and returns it.
fn lenient(body: &[u8]) -> Event {
    let event = Event::from_slice_lenient(body).expect("a JSON object with a string `event` is an event");
    let written = serde_json::to_vec(&event).expect("events serialize");
    assert_eq!(Event::from_slice_lenient(&written).expect("and parse back"), event);
    event
}

fn email_sent(data: &str) -> EmailSent {
    let body = format!(r#"{{"event":"email.sent","timestamp":"2025-01-15T10:30:00Z","data":{data}}}"#);
    match lenient(body.as_bytes()).data {
        EventData::EmailSent(sent) => sent,
        other => panic!("not typed: {other:?}"),
    }
}

fn untyped(body: &[u8]) -> UntypedEvent {
    match lenient(body).data {
        EventData::Untyped(untyped) => untyped,
        other => panic!("not untyped: {other:?}"),
    }
}

const IDS: &str = r#""emailLogId":"cel_1","campaignId":"cmp_1","leadId":"cld_1""#;

#[test]
fn integers_written_as_strings_or_integral_floats_are_read() {
    for (step, expected) in [(r#""2""#, 2), ("2.0", 2), ("2", 2), ("4294967295", u32::MAX)] {
        let sent = email_sent(&format!(r#"{{{IDS},"sequenceStep":{step}}}"#));
        assert_eq!(sent.sequence_step, Some(expected), "{step}");
        assert!(sent.degraded_fields().is_empty(), "{step}");
        assert!(sent.extra.is_empty(), "{step}");
    }
}

#[test]
fn a_field_of_another_type_degrades_and_keeps_its_raw_value() {
    for step in [r#""two""#, "2.5", "-1", "4294967296", "true", "[2]", r#"{"n":2}"#] {
        let sent = email_sent(&format!(r#"{{{IDS},"sequenceStep":{step}}}"#));
        assert_eq!(sent.sequence_step, None, "{step}");
        assert_eq!(sent.degraded_fields(), ["sequenceStep"], "{step}");
        let raw: Value = serde_json::from_str(step).expect("JSON");
        assert_eq!(sent.extra.get("sequenceStep"), Some(&raw), "{step}");
    }
    let sent = email_sent(&format!(r#"{{{IDS},"subject":42,"toEmail":["a@example.com"],"sequenceStep":"x"}}"#));
    // Declaration order, whatever the body's order.
    assert_eq!(sent.degraded_fields(), ["toEmail", "subject", "sequenceStep"]);
    let body = format!(r#"{{"event":"email.sent","timestamp":"t","data":{{{IDS},"sequenceStep":"two"}}}}"#);
    let event = Event::from_slice(body.as_bytes()).expect("the strict parse degrades too");
    assert_eq!(event.degraded_fields(), ["sequenceStep"]);
    assert_eq!(event.data.degraded_fields(), ["sequenceStep"]);
}

#[test]
fn an_explicit_null_is_none_and_not_degraded() {
    let sent = email_sent(&format!(r#"{{{IDS},"sequenceStep":null,"subject":null}}"#));
    assert_eq!((sent.sequence_step, sent.subject.as_deref()), (None, None));
    assert!(sent.degraded_fields().is_empty() && sent.extra.is_empty());
}

#[test]
fn integer_ids_are_read_as_their_decimal_text() {
    let sent = email_sent(r#"{"emailLogId":123,"campaignId":-7,"leadId":4.0e3}"#);
    assert_eq!((sent.email_log_id.as_str(), sent.campaign_id.as_str(), sent.lead_id.as_str()), ("123", "-7", "4000"));
    // Floats that are not integers, or too large to be exact, say nothing reliable.
    for id in ["1.5", "1e300", "18446744073709551616"] {
        let body = format!(
            r#"{{"event":"email.sent","timestamp":"t","data":{{"emailLogId":{id},"campaignId":"c","leadId":"l"}}}}"#
        );
        let reason = untyped(body.as_bytes()).reason.to_string();
        assert_eq!(reason, "`data.emailLogId` is not an id (a string or an integer)", "{id}");
    }
}

#[test]
fn data_of_a_documented_type_that_cannot_be_typed_is_untyped() {
    let body = br#"{"event":"campaign.completed","timestamp":"2025-02-01T18:00:00Z","data":null}"#;
    let event = untyped(body);
    assert_eq!((event.event_type, &event.data), (EventType::CampaignCompleted, &Value::Null));
    assert_eq!(event.reason.to_string(), "`data` is missing or null");
    assert_eq!(event.reason.path(), "data");
    let strict = Event::from_slice(body).unwrap_err();
    assert_eq!(strict.kind(), ParseErrorKind::Data);

    let parsed = lenient(body);
    assert_eq!((parsed.name(), parsed.event_type()), ("campaign.completed", Some(EventType::CampaignCompleted)));
    assert!(parsed.degraded_fields().is_empty());
    assert_eq!(serde_json::to_value(&parsed).expect("serializes")["data"], Value::Null);

    let missing = untyped(br#"{"event":"campaign.paused","timestamp":"t"}"#);
    assert_eq!(missing.reason.to_string(), "`data` is missing or null");
    let array = untyped(br#"{"event":"lead.created","timestamp":"t","data":[1]}"#);
    assert_eq!(array.reason.to_string(), "`data` is not an object (found an array)");
}

#[test]
fn a_required_id_missing_null_or_not_an_id_makes_the_event_untyped() {
    let cases = [
        (r#"{"campaignId":"cmp_1"}"#, "`data.leadId` is missing or null"),
        (r#"{"leadId":null,"email":"a@example.com"}"#, "`data.leadId` is missing or null"),
        (r#"{"leadId":{"id":"cld_1"}}"#, "`data.leadId` is not an id (a string or an integer)"),
        (r#"{"leadId":1.5}"#, "`data.leadId` is not an id (a string or an integer)"),
    ];
    for (data, reason) in cases {
        let body = format!(r#"{{"event":"lead.updated","timestamp":"t","data":{data}}}"#);
        let event = untyped(body.as_bytes());
        assert_eq!(event.event_type, EventType::LeadUpdated);
        assert_eq!(event.data, serde_json::from_str::<Value>(data).expect("JSON"));
        assert_eq!(event.reason.to_string(), reason, "{data}");
        assert_eq!(event.reason.path(), "data.leadId");
        assert!(Event::from_slice(body.as_bytes()).is_err(), "strict: {data}");
        // The reason is an error a handler can fail the event with.
        let _: Box<dyn std::error::Error + Send + Sync> = Box::new(event.reason);
    }
}

#[test]
fn the_reason_names_the_first_id_at_fault_after_valid_ids_of_every_form() {
    // A string, an integer, one only u64 holds, one only i64 holds beyond
    // 2^53, an integral float: each is an id, so the reason is the next one.
    for first in [r#""cel_1""#, "7", "18446744073709551615", "-9007199254740993", "12.0"] {
        let body = format!(
            r#"{{"event":"email.sent","timestamp":"t","data":{{"emailLogId":{first},"campaignId":true,"leadId":"cld_1"}}}}"#
        );
        let event = untyped(body.as_bytes());
        assert_eq!(event.reason.path(), "data.campaignId", "{first}");
    }
}

#[test]
fn timestamps_compare_by_what_was_sent() {
    assert!(Timestamp::new("2025-01-15T10:00:00Z").is_string());
    assert_eq!(Timestamp::new("2025-01-15T10:00:00Z").to_string(), "2025-01-15T10:00:00Z");
    assert_eq!(Timestamp::from_value(json!(1_736_935_200)).to_string(), "1736935200");
    assert!(!Timestamp::from_value(json!(1_736_935_200)).is_string());
    assert_eq!(Timestamp::new("t"), Timestamp::from_value(json!("t")));
    assert_ne!(
        Timestamp::new("2025-01-15T10:00:00Z"),
        Timestamp::new("2025-01-15T11:00:00+01:00"),
        "one instant, two texts"
    );
    assert_ne!(Timestamp::new("1"), Timestamp::from_value(json!(1)), "a string is not a number");
    let hash = |timestamp: &Timestamp| {
        let mut hasher = std::hash::DefaultHasher::new();
        timestamp.hash(&mut hasher);
        hasher.finish()
    };
    assert_eq!(hash(&Timestamp::new("t")), hash(&Timestamp::from_value(json!("t"))));
    assert_ne!(hash(&Timestamp::new("2025-01-15T10:00:00Z")), hash(&Timestamp::new("2025-01-15T10:00:01Z")));
}

#[test]
fn a_lone_surrogate_escape_is_read_as_the_replacement_character() {
    let body = br#"{"event":"reply.received","timestamp":"t","data":{"replyId":"crp_1","campaignId":"cmp_1","leadId":"cld_1","bodyPreview":"Thanks \ud83d"}}"#;
    assert_eq!(Event::from_slice(body).unwrap_err().kind(), ParseErrorKind::Syntax);
    let EventData::ReplyReceived(reply) = lenient(body).data else { panic!("wrong variant") };
    assert_eq!(reply.body_preview.as_deref(), Some("Thanks \u{FFFD}"));

    let preview = |text: &str| {
        let body = format!(
            r#"{{"event":"reply.received","timestamp":"t","data":{{"replyId":"r","campaignId":"c","leadId":"l","bodyPreview":"{text}"}}}}"#
        );
        let EventData::ReplyReceived(ReplyReceived { body_preview, .. }) = lenient(body.as_bytes()).data else {
            panic!("wrong variant")
        };
        body_preview.expect("a preview")
    };
    assert_eq!(preview(r"\\ud83d \ud83d\ude80"), "\\ud83d 🚀", "an escaped backslash, then a pair");
    // The same escaped backslash where a lone surrogate makes the repair run.
    assert_eq!(preview(r"\\ud83d \ud83d"), "\\ud83d \u{FFFD}", "only the real escape is repaired");
    assert_eq!(preview(r"\\\ud83d"), "\\\u{FFFD}", "an escaped backslash, then a lone escape");
    assert_eq!(preview(r"\ude80 and \ud83d\u0041"), "\u{FFFD} and \u{FFFD}A");
    assert_eq!(preview(r#"a \" \ud83d"#), "a \" \u{FFFD}", "an escaped quote keeps the string open");
    assert_eq!(preview(r"\ud83d\ude80 \ud83d"), "🚀 \u{FFFD}", "a pair kept beside a lone one");
    assert_eq!(preview(r"\nD83D \ud83d"), "\nD83D \u{FFFD}", "hex digits after another escape are text");
    // An escape that is not one, after a lone surrogate: the scan ends, and the body is still no JSON.
    let invalid = br#"{"event":"reply.received","timestamp":"t","data":{"bodyPreview":"\ud83d \uZZ"}}"#;
    assert_eq!(Event::from_slice_lenient(invalid).unwrap_err().kind(), ParseErrorKind::Syntax);
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let body = b"\xEF\xBB\xBF{\"event\":\"campaign.started\",\"timestamp\":\"t\",\"data\":{\"campaignId\":\"cmp_1\"}}";
    assert_eq!(lenient(body).event_type(), Some(EventType::CampaignStarted));
    assert_eq!(Event::from_slice(body).unwrap_err().kind(), ParseErrorKind::Syntax);
}

#[test]
fn a_repeated_key_takes_its_last_value() {
    let top =
        br#"{"event":"campaign.started","timestamp":"a","data":{"campaignId":"cmp_1"},"timestamp":"b","x":1,"x":2}"#;
    let event = lenient(top);
    assert_eq!((event.timestamp.as_str(), &event.extra["x"]), ("b", &json!(2)));

    let data = format!(r#"{{{IDS},"sequenceStep":"two","leadId":"cld_2","sequenceStep":3,"x":1,"x":2}}"#);
    let sent = email_sent(&data);
    assert_eq!((sent.lead_id.as_str(), sent.sequence_step), ("cld_2", Some(3)));
    assert!(sent.degraded_fields().is_empty(), "the degraded value was replaced");
    assert_eq!(sent.extra, json!({"x": 2}).as_object().expect("object").clone());
    let sent = email_sent(&format!(r#"{{{IDS},"sequenceStep":3,"sequenceStep":"two"}}"#));
    assert_eq!((sent.sequence_step, sent.degraded_fields()), (None, &["sequenceStep"][..]));

    let data = r#"{"data":{"replyId":"crp_1"},"event":"reply.categorized","data":{"campaignId":"cmp_1"}}"#;
    assert_eq!(
        lenient(data.as_bytes()).data,
        EventData::Untyped(UntypedEvent::new(EventType::ReplyCategorized, json!({"campaignId":"cmp_1"})))
    );
}

#[test]
fn a_repeated_event_name_retypes_data_already_typed() {
    let body = br#"{"event":"email.opened","timestamp":"t","data":{"emailLogId":"cel_1","campaignId":"cmp_1","leadId":"cld_1","sequenceStep":"two"},"event":"email.sent"}"#;
    let event = lenient(body);
    let EventData::EmailSent(sent) = &event.data else { panic!("retyped as the last name: {event:?}") };
    assert_eq!((sent.sequence_step, sent.degraded_fields()), (None, &["sequenceStep"][..]));
    assert_eq!(sent.extra["sequenceStep"], "two");

    let body =
        br#"{"event":"campaign.started","timestamp":"t","data":{"campaignId":"cmp_1"},"event":"campaign.renamed"}"#;
    let EventData::Unknown(unknown) = lenient(body).data else { panic!("an unknown type") };
    assert_eq!((unknown.event.as_str(), &unknown.data), ("campaign.renamed", &json!({"campaignId":"cmp_1"})));

    let body = br#"{"event":"campaign.started","timestamp":"t","data":{"campaignId":"cmp_1"},"event":"lead.created"}"#;
    assert_eq!(untyped(body).reason.to_string(), "`data.leadId` is missing or null");
    assert!(Event::from_slice(body).is_err());
}

#[test]
fn a_timestamp_of_any_json_value_is_kept_and_written_back() {
    for raw in ["1736937000", "1736937000.5", "true", "null", r#"{"at":"2025-01-15T10:30:00Z"}"#, "[]"] {
        let body = format!(r#"{{"event":"campaign.started","timestamp":{raw},"data":{{"campaignId":"cmp_1"}}}}"#);
        let event = lenient(body.as_bytes());
        let value: Value = serde_json::from_str(raw).expect("JSON");
        assert_eq!(event.timestamp.to_value(), value, "{raw}");
        assert!(!event.timestamp.is_string());
        assert_eq!(event.timestamp.as_str(), raw);
        let written: Value = serde_json::to_value(&event).expect("serializes");
        assert_eq!(written["timestamp"], value, "{raw}");
        assert_eq!(Event::from_slice(body.as_bytes()).expect("strict too"), event);
    }
    let event = lenient(br#"{"event":"campaign.started","data":{"campaignId":"cmp_1"}}"#);
    assert_eq!((event.timestamp.to_value(), event.timestamp.as_str()), (Value::Null, "null"));
    assert_eq!(Timestamp::from_value(json!("x")), Timestamp::new("x"));
}

#[test]
fn every_timestamp_form_names_the_same_instant() {
    let expected = Timestamp::new("2025-01-15T10:00:00Z").instant().expect("RFC 3339");
    assert_eq!(expected.unix_timestamp(), 1_736_935_200);
    let strings = [
        "2025-01-15t10:00:00z",
        "2025-01-15T11:00:00+01:00",
        "2025-01-15T05:00:00-05:00",
        "2025-01-15 10:00:00Z",
        "2025-01-15T10:00:00.000Z",
        "2025-01-15T10:00:00",
        "2025-01-15T10:00:00.000000",
        "2025-01-15 10:00:00",
    ];
    for text in strings {
        assert_eq!(Timestamp::new(text).instant().expect(text), expected, "{text}");
    }
    for number in [json!(1_736_935_200), json!(1_736_935_200.0)] {
        assert_eq!(Timestamp::from_value(number.clone()).instant().expect("seconds"), expected, "{number}");
    }
    let python = Timestamp::new("2025-01-15T10:30:00.123456").instant().expect("isoformat");
    assert_eq!(python.unix_timestamp_nanos(), 1_736_937_000_123_456_000);
    let fraction = Timestamp::from_value(json!(1_736_935_200.5)).instant().expect("seconds");
    assert_eq!(fraction.unix_timestamp_nanos(), 1_736_935_200_500_000_000);

    for unreadable in [json!("15/01/2025 10:00"), json!(true), json!(null), json!(1e300)] {
        let err = Timestamp::from_value(unreadable.clone()).instant().unwrap_err();
        assert!(!err.to_string().contains("15/01"), "no value quoted: {err}");
        // Only a text has an error beneath: the `time` crate's, of reading it as RFC 3339.
        let source = std::error::Error::source(&err);
        assert_eq!(
            source.is_some_and(|source| source.is::<time::error::Parse>()),
            unreadable.is_string(),
            "{unreadable}"
        );
    }
}

#[test]
fn not_an_event_is_still_an_error() {
    let syntax = Event::from_slice_lenient(b"{\"event\": email.sent}").unwrap_err();
    assert_eq!(syntax.kind(), ParseErrorKind::Syntax);
    assert_eq!(Event::from_slice_lenient(b"").unwrap_err().kind(), ParseErrorKind::Eof);
    assert_eq!(Event::from_slice_lenient(b"\xEF\xBB\xBF").unwrap_err().kind(), ParseErrorKind::Eof);
    for data in [&br#"{"event":5,"data":{}}"#[..], br#"{"data":{}}"#, b"[1, 2]", b"\"email.sent\"", b"null"] {
        let err = Event::from_slice_lenient(data).unwrap_err();
        assert_eq!(err.kind(), ParseErrorKind::Data, "{}", String::from_utf8_lossy(data));
    }
}

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "[a-zA-Z0-9_\"\\\\é]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-zA-Z]{0,12}", inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A key that is often one FoxReach documents, so typed fields meet wrong types.
fn key() -> impl Strategy<Value = String> {
    let documented = ["emailLogId", "campaignId", "leadId", "replyId", "sequenceStep", "bounceType", "category"];
    let more = ["tags", "customFields", "status", "totalSent", "createdAt", "email", "x"];
    proptest::sample::select([documented, more].concat()).prop_map(str::to_owned)
}

proptest! {
    #[test]
    fn lenient_parse_never_panics_on_any_bytes(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Event::from_slice_lenient(&body);
    }

    #[test]
    fn any_object_with_a_string_event_is_an_event(
        event in prop_oneof![proptest::sample::select(EventType::ALL).prop_map(|t| t.as_str().to_owned()), "[a-z.]{0,12}"],
        data in prop_oneof![json(), proptest::collection::btree_map(key(), json(), 0..6)
            .prop_map(|map| Value::Object(map.into_iter().collect()))],
        timestamp in json(),
        extra in proptest::collection::btree_map("[a-z]{1,4}", json(), 0..3),
    ) {
        let mut object: serde_json::Map<String, Value> = extra.into_iter().collect();
        object.insert("event".into(), event.clone().into());
        object.insert("timestamp".into(), timestamp);
        object.insert("data".into(), data);
        let body = serde_json::to_vec(&object).expect("serializes");
        let parsed = Event::from_slice_lenient(&body).expect("a string `event` is an event");
        prop_assert_eq!(parsed.name(), event.as_str());
        let written = serde_json::to_vec(&parsed).expect("serializes");
        prop_assert_eq!(Event::from_slice_lenient(&written).expect("parses back"), parsed);
    }
}
