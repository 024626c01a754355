//! Typed events against the documented payloads and the shapes FoxReach may send.

use foxreach_webhooks::event::{
    BounceType, CampaignCompleted, CampaignPaused, CampaignStarted, EmailBounced, EmailFailed, EmailOpened, EmailSent,
    LeadCreated, LeadUpdated, ParseErrorKind, ReplyCategorized, ReplyCategory, ReplyReceived,
};
use foxreach_webhooks::{Event, EventData, EventType};
use serde_json::{Value, json};
use serde_test::Token;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("fixtures/payloads/", $name, ".json")).as_slice()
    };
}

/// Parses a fixture, checks its type and timestamp, and that it serializes
/// back to an equal event.
fn parse(body: &[u8], event_type: EventType, timestamp: &str) -> EventData {
    let event = Event::from_slice(body).expect("documented payloads parse");
    assert_eq!(event.event_type(), Some(event_type));
    assert_eq!(event.name(), event_type.as_str());
    assert_eq!(event.timestamp.as_str(), timestamp);
    assert!(event.timestamp.instant().is_ok(), "{timestamp} is RFC 3339");
    assert!(event.extra.is_empty());
    let again = Event::from_slice(&serde_json::to_vec(&event).expect("events serialize")).expect("and parse back");
    assert_eq!(again, event);
    event.data
}

#[test]
fn email_sent() {
    let EventData::EmailSent(data) = parse(fixture!("email.sent"), EventType::EmailSent, "2025-01-15T10:30:00Z") else {
        panic!("wrong variant")
    };
    let mut expected = EmailSent::new("cel_123", "cmp_456", "cld_789");
    expected.to_email = Some("lead@example.com".into());
    expected.from_email = Some("sender@example.com".into());
    expected.subject = Some("Quick question".into());
    expected.sequence_step = Some(1);
    assert_eq!(data, expected);
}

#[test]
fn email_failed() {
    let EventData::EmailFailed(data) = parse(fixture!("email.failed"), EventType::EmailFailed, "2025-01-15T10:30:00Z")
    else {
        panic!("wrong variant")
    };
    let mut expected = EmailFailed::new("cel_123", "cmp_456", "cld_789");
    expected.to_email = Some("lead@example.com".into());
    expected.error = Some("SMTP connection timeout".into());
    assert_eq!(data, expected);
}

#[test]
fn email_bounced() {
    let EventData::EmailBounced(data) =
        parse(fixture!("email.bounced"), EventType::EmailBounced, "2025-01-15T10:30:00Z")
    else {
        panic!("wrong variant")
    };
    let mut expected = EmailBounced::new("cel_123", "cmp_456", "cld_789");
    expected.to_email = Some("lead@example.com".into());
    expected.bounce_type = Some(BounceType::Hard);
    assert_eq!(data, expected);
}

#[test]
fn email_opened() {
    let EventData::EmailOpened(data) = parse(fixture!("email.opened"), EventType::EmailOpened, "2025-01-15T14:22:00Z")
    else {
        panic!("wrong variant")
    };
    let mut expected = EmailOpened::new("cel_123", "cmp_456", "cld_789");
    expected.to_email = Some("lead@example.com".into());
    assert_eq!(data, expected);
}

#[test]
fn reply_received() {
    let EventData::ReplyReceived(data) =
        parse(fixture!("reply.received"), EventType::ReplyReceived, "2025-01-15T15:00:00Z")
    else {
        panic!("wrong variant")
    };
    let mut expected = ReplyReceived::new("crp_123", "cmp_456", "cld_789");
    expected.from_email = Some("lead@example.com".into());
    expected.subject = Some("Re: Quick question".into());
    expected.body_preview = Some("Thanks for reaching out...".into());
    assert_eq!(data, expected);
}

#[test]
fn reply_categorized() {
    let EventData::ReplyCategorized(data) =
        parse(fixture!("reply.categorized"), EventType::ReplyCategorized, "2025-01-15T15:01:00Z")
    else {
        panic!("wrong variant")
    };
    let mut expected = ReplyCategorized::new("crp_123");
    expected.category = Some(ReplyCategory::Interested);
    expected.previous_category = Some(ReplyCategory::Uncategorized);
    assert_eq!(data, expected);
}

#[test]
fn campaign_events() {
    let started = parse(fixture!("campaign.started"), EventType::CampaignStarted, "2025-01-15T09:00:00Z");
    assert_eq!(started, EventData::CampaignStarted(CampaignStarted::new("cmp_456")));
    let paused = parse(fixture!("campaign.paused"), EventType::CampaignPaused, "2025-01-16T09:00:00Z");
    assert_eq!(paused, EventData::CampaignPaused(CampaignPaused::new("cmp_456")));
    let completed = parse(fixture!("campaign.completed"), EventType::CampaignCompleted, "2025-02-01T18:00:00Z");
    assert_eq!(completed, EventData::CampaignCompleted(CampaignCompleted::new("cmp_456")));
}

#[test]
fn lead_events() {
    let mut created = LeadCreated::new("cld_789");
    created.email = Some("lead@example.com".into());
    let parsed = parse(fixture!("lead.created"), EventType::LeadCreated, "2025-01-14T08:00:00Z");
    assert_eq!(parsed, EventData::LeadCreated(created));

    let mut updated = LeadUpdated::new("cld_789");
    updated.email = Some("lead@example.com".into());
    let parsed = parse(fixture!("lead.updated"), EventType::LeadUpdated, "2025-01-15T16:00:00Z");
    assert_eq!(parsed, EventData::LeadUpdated(updated));
}

#[test]
fn every_event_type_has_a_fixture_and_round_trips_its_name() {
    let vectors: Value = serde_json::from_str(include_str!("fixtures/vectors.json")).expect("vectors.json is JSON");
    for &event_type in EventType::ALL {
        assert_eq!(event_type.as_str().parse::<EventType>(), Ok(event_type));
        assert_eq!(event_type.to_string(), event_type.as_str());
        assert_eq!(serde_json::to_value(event_type).expect("serializes"), json!(event_type.as_str()));
        let found = vectors["valid"].as_array().expect("cases").iter().any(|case| {
            case["body"].as_str().is_some_and(|body| body.contains(&format!("\"{}\"", event_type.as_str())))
        });
        assert!(found, "no vector for {event_type}");
    }
    let err = "email.clicked".parse::<EventType>().unwrap_err();
    assert!(err.to_string().contains("email.clicked") && err.to_string().contains("lead.updated"), "{err}");
}

#[test]
fn every_valid_vector_body_parses_except_the_empty_one() {
    let vectors: Value = serde_json::from_str(include_str!("fixtures/vectors.json")).expect("vectors.json is JSON");
    for case in vectors["valid"].as_array().expect("cases") {
        let (name, body) = (case["name"].as_str().expect("name"), case["body"].as_str().expect("body"));
        match Event::from_slice(body.as_bytes()) {
            Ok(event) => {
                let again = Event::from_slice(&serde_json::to_vec(&event).expect("serializes")).expect("parses");
                assert_eq!(again, event, "{name}");
            }
            Err(err) => {
                assert!(body.is_empty(), "{name}: {err}");
                assert_eq!(err.kind(), ParseErrorKind::Eof, "{name}");
            }
        }
    }
}

#[test]
fn unknown_event_types_are_kept_with_their_data() {
    let body = br#"{"event": "sequence.finished", "timestamp": "2026-03-01T00:00:00Z", "data": {"campaignId": "cmp_9", "newField": [1, 2, 3]}}"#;
    let event = Event::from_slice(body).expect("unknown types are not an error");
    assert_eq!(event.name(), "sequence.finished");
    assert_eq!(event.event_type(), None);
    let EventData::Unknown(unknown) = &event.data else { panic!("wrong variant") };
    assert_eq!(unknown.event, "sequence.finished");
    assert_eq!(unknown.data, json!({"campaignId": "cmp_9", "newField": [1, 2, 3]}));
    let written: Value = serde_json::to_value(&event).expect("serializes");
    assert_eq!(written, serde_json::from_slice::<Value>(body).expect("JSON"));
}

/// Found by fuzzing: a large number in unknown data is held as an `f64`, and
/// a replayed event must parse back to the very same one.
#[test]
fn numbers_in_unknown_data_survive_a_replay_exactly() {
    let body = br#"{"event":"email?sent","timestamp":"t","data":{"n":33333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333331,"f":0.1,"e":-1.7976931348623157e308}}"#;
    let event = Event::from_slice(body).expect("parses");
    let replayed = Event::from_slice(&serde_json::to_vec(&event).expect("serializes")).expect("parses");
    assert_eq!(replayed, event);
}

#[test]
fn unknown_fields_are_kept_and_written_back() {
    let body = br#"{"event": "email.sent", "deliveryId": "dlv_1", "timestamp": "2025-01-15T10:30:00Z", "data": {"emailLogId": "cel_123", "campaignId": "cmp_456", "leadId": "cld_789", "sequenceStep": 2, "newField": {"nested": true}}}"#;
    let event = Event::from_slice(body).expect("extra fields are not an error");
    let EventData::EmailSent(sent) = &event.data else { panic!("wrong variant") };
    assert_eq!(sent.sequence_step, Some(2));
    assert_eq!(sent.extra.get("newField"), Some(&json!({"nested": true})));
    assert_eq!(event.extra.get("deliveryId"), Some(&json!("dlv_1")));
    let written: Value = serde_json::to_value(&event).expect("serializes");
    assert_eq!(written, serde_json::from_slice::<Value>(body).expect("JSON"));
}

#[test]
fn data_before_event_is_parsed_the_same() {
    let compact = fixture!("email.sent");
    let reordered = br#"{"data": {"emailLogId": "cel_123", "campaignId": "cmp_456", "leadId": "cld_789", "toEmail": "lead@example.com", "fromEmail": "sender@example.com", "subject": "Quick question", "sequenceStep": 1}, "timestamp": "2025-01-15T10:30:00Z", "event": "email.sent"}"#;
    assert_eq!(Event::from_slice(reordered).expect("parses"), Event::from_slice(compact).expect("parses"));

    let missing_id = br#"{"data": {"campaignId": "cmp_456", "leadId": "cld_789"}, "timestamp": "2025-01-15T10:30:00Z", "event": "email.sent"}"#;
    let err = Event::from_slice(missing_id).unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::Data);
    assert!(err.to_string().contains("in `data`: missing field `emailLogId`"), "{err}");
}

#[test]
fn optional_fields_may_be_absent_or_null_and_new_values_are_kept() {
    let body = br#"{"event":"reply.categorized","timestamp":"2025-01-15T15:01:00Z","data":{"replyId":"crp_1","category":"meeting_booked","previousCategory":null}}"#;
    let EventData::ReplyCategorized(data) = Event::from_slice(body).expect("parses").data else {
        panic!("wrong variant")
    };
    assert_eq!(data.category, Some(ReplyCategory::Other("meeting_booked".into())));
    assert_eq!(data.previous_category, None);

    let body = br#"{"event":"email.bounced","timestamp":"2025-01-15T10:30:00Z","data":{"emailLogId":"cel_1","campaignId":"cmp_1","leadId":"cld_1","bounceType":"soft"}}"#;
    let EventData::EmailBounced(data) = Event::from_slice(body).expect("parses").data else { panic!("wrong variant") };
    assert_eq!((data.bounce_type, data.to_email), (Some(BounceType::Soft), None));
}

#[test]
fn a_timestamp_that_is_not_rfc_3339_does_not_block_the_event() {
    let body = br#"{"event":"campaign.started","timestamp":"15/01/2025 09:00","data":{"campaignId":"cmp_1"}}"#;
    let event = Event::from_slice(body).expect("the event still arrives");
    assert_eq!(event.timestamp.as_str(), "15/01/2025 09:00");
    let err = event.timestamp.instant().unwrap_err();
    assert!(err.to_string().contains("RFC 3339"), "{err}");
}

#[test]
fn errors_say_what_and_where() {
    let not_json = Event::from_slice(b"{\"event\": email.sent}").unwrap_err();
    assert_eq!(not_json.kind(), ParseErrorKind::Syntax);
    assert_eq!((not_json.line(), not_json.column()), (1, 11));
    assert!(not_json.to_string().starts_with("body is not valid JSON (line 1, column 11): "), "{not_json}");

    let empty = Event::from_slice(b"").unwrap_err();
    assert_eq!(empty.kind(), ParseErrorKind::Eof);

    // A wrong-typed optional field is degraded, not an error (see tests/drift.rs); an id is required.
    let wrong_type = br#"{
  "event": "email.sent",
  "timestamp": "2025-01-15T10:30:00Z",
  "data": {"emailLogId": "cel_1", "campaignId": "cmp_1", "leadId": true, "sequenceStep": "two"}
}"#;
    let err = Event::from_slice(wrong_type).unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::Data);
    assert_eq!(err.path(), "data.leadId");
    assert_eq!(err.line(), 4);
    assert!(err.to_string().starts_with("body is not a FoxReach event: wrong shape at `data.leadId` (line 4,"));
    assert!(err.to_string().ends_with("invalid type: boolean, expected an id (a string or an integer)"), "{err}");

    let missing = Event::from_slice(br#"{"timestamp":"t","data":{"leadId":"cld_1"}}"#).unwrap_err();
    assert_eq!(missing.kind(), ParseErrorKind::Data);
    assert!(missing.to_string().contains("missing field `event`"), "{missing}");

    let trailing = Event::from_slice(br#"{"event":"x","timestamp":"t","data":{}} {}"#).unwrap_err();
    assert_eq!(trailing.kind(), ParseErrorKind::Syntax);

    let not_a_name = Event::from_slice(br#"{"event":5,"timestamp":"t","data":{}}"#).unwrap_err();
    assert!(not_a_name.to_string().ends_with("invalid type: integer, expected a string"), "{not_a_name}");

    let not_an_object = Event::from_slice(b"[1, 2]").unwrap_err();
    assert_eq!(not_an_object.kind(), ParseErrorKind::Data);
}

#[test]
fn a_parse_error_keeps_serde_json_s_error_beneath_and_debugs_without_values() {
    let body = br#"{"event":"email.sent","timestamp":"t","data":{"emailLogId":"cel_1","campaignId":"cmp_1","leadId":"cld_1","sequenceStep":"x","toEmail":"lead@private.example","subject":7,"leadId":false}}"#;
    let err = Event::from_slice(body).unwrap_err();
    let source = std::error::Error::source(&err).expect("the error beneath");
    assert!(source.downcast_ref::<serde_json::Error>().is_some(), "{source:?}");
    let debug = format!("{err:?}");
    for part in ["ParseError", "kind: Data", r#"path: "data.leadId""#, "line: 1", "column: ", "message: \"body is not"]
    {
        assert!(debug.contains(part), "{part} in {debug}");
    }
    assert!(!debug.contains("private.example"), "{debug}");
}

#[test]
fn an_unknown_event_type_keeps_its_name_and_lists_the_documented_ones() {
    let err = "lead.deleted".parse::<EventType>().unwrap_err();
    assert_eq!(err.name(), "lead.deleted");
    let documented: Vec<&str> = EventType::ALL.iter().map(|event_type| event_type.as_str()).collect();
    assert_eq!(
        err.to_string(),
        format!("`lead.deleted` is not a FoxReach event type; the documented ones are {}", documented.join(", "))
    );
}

#[test]
fn a_serialized_event_announces_how_many_entries_it_writes() {
    // serde_json ignores the length a map announces; formats that write it
    // before the entries (MessagePack, CBOR) do not.
    let body = br#"{"event":"lead.deleted","timestamp":"t","data":{},"a":1,"b":2,"c":3,"d":4}"#;
    let event = Event::from_slice(body).expect("an event");
    serde_test::assert_ser_tokens(
        &event,
        &[
            Token::Map { len: Some(7) },
            Token::Str("event"),
            Token::Str("lead.deleted"),
            Token::Str("timestamp"),
            Token::Str("t"),
            Token::Str("data"),
            Token::Map { len: Some(0) },
            Token::MapEnd,
            Token::Str("a"),
            Token::U64(1),
            Token::Str("b"),
            Token::U64(2),
            Token::Str("c"),
            Token::U64(3),
            Token::Str("d"),
            Token::U64(4),
            Token::MapEnd,
        ],
    );
}
