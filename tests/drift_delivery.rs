//! Payloads that drift from FoxReach's docs, timestamps as FoxReach's API
//! writes them, and events that cannot be typed, delivered through the axum
//! router and the tower receiver: each reaches the application.
#![cfg(all(feature = "axum", feature = "delivery", feature = "test-util"))]

mod support;

use std::sync::{Arc, Mutex};

use foxreach_webhooks::delivery::{Delivery, Dispatcher, Handled, Handler, ReplayWindow};
use foxreach_webhooks::event::{CampaignCompleted, EmailSent, LeadUpdated, ReplyReceived, UntypedEvent};
use foxreach_webhooks::http::FullBody;
use foxreach_webhooks::http::axum::router;
use foxreach_webhooks::http::test_util::signed;
use foxreach_webhooks::http::tower::receiver;
use http::{Request, StatusCode};
use support::{PATH, verifier};
use tower::ServiceExt;

/// Writes down what reached it, one line per event.
#[derive(Default)]
struct Seen {
    lines: Mutex<Vec<String>>,
}

impl Seen {
    fn note(&self, line: String) -> Handled {
        self.lines.lock().expect("not poisoned").push(line);
        Ok(())
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("not poisoned").clone()
    }
}

impl Handler for Seen {
    async fn email_sent(&self, sent: EmailSent, delivery: Delivery<'_>) -> Handled {
        self.note(format!(
            "email_sent {} step {:?} degraded {:?} extra {} at {}",
            sent.email_log_id,
            sent.sequence_step,
            sent.degraded_fields(),
            serde_json::Value::Object(sent.extra.clone()),
            delivery.timestamp
        ))
    }

    async fn lead_updated(&self, lead: LeadUpdated, _: Delivery<'_>) -> Handled {
        let instant = lead.updated_at.as_ref().and_then(|at| at.instant().ok()).map(|at| at.unix_timestamp());
        self.note(format!(
            "lead_updated {} {:?} {:?} {:?} {:?} {:?} updated {instant:?} degraded {:?}",
            lead.lead_id,
            lead.first_name,
            lead.company,
            lead.status,
            lead.tags,
            lead.custom_fields.as_ref().map(serde_json::Map::len),
            lead.degraded_fields()
        ))
    }

    async fn campaign_completed(&self, campaign: CampaignCompleted, _: Delivery<'_>) -> Handled {
        self.note(format!(
            "campaign_completed {} {:?} {:?} sent {:?} replied {:?}",
            campaign.campaign_id, campaign.name, campaign.status, campaign.total_sent, campaign.total_replied
        ))
    }

    async fn reply_received(&self, reply: ReplyReceived, _: Delivery<'_>) -> Handled {
        self.note(format!("reply_received {:?}", reply.body_preview))
    }

    async fn untyped(&self, event: UntypedEvent, delivery: Delivery<'_>) -> Handled {
        self.note(format!(
            "untyped {} ({}) data {} at {}",
            event.event_type, event.reason, event.data, delivery.timestamp
        ))
    }
}

/// Sends `body`, signed, through both receivers (each with its own `Seen`),
/// and returns the two statuses and what each handler saw.
async fn deliver(body: &str) -> Vec<(StatusCode, Vec<String>)> {
    let (by_router, by_tower) = (Arc::new(Seen::default()), Arc::new(Seen::default()));
    let statuses = statuses(body, Arc::clone(&by_router), Arc::clone(&by_tower)).await;
    statuses.into_iter().zip([by_router.lines(), by_tower.lines()]).collect()
}

/// The statuses of `body`, signed, through the router (to `first`) and the
/// tower receiver (to `second`), each with a replay window that the 2025
/// timestamps here pass only if they are read as instants.
async fn statuses<H: Handler>(body: &str, first: H, second: H) -> [StatusCode; 2] {
    let request = || -> Request<FullBody> { signed(&verifier(), PATH, body.to_owned()) };
    let window = || ReplayWindow::new(std::time::Duration::from_secs(10 * 365 * 24 * 60 * 60));
    let app = router(PATH, verifier(), Dispatcher::new(first).replay_window(window()));
    let service = receiver(verifier(), Dispatcher::new(second).replay_window(window()));
    [
        app.oneshot(request()).await.expect("infallible").status(),
        service.oneshot(request()).await.expect("infallible").status(),
    ]
}

const IDS: &str = r#""emailLogId":"cel_1","campaignId":"cmp_1","leadId":"cld_1""#;

fn email_sent(timestamp: &str, data: &str) -> String {
    format!(r#"{{"event":"email.sent","timestamp":{timestamp},"data":{data}}}"#)
}

#[tokio::test]
async fn drifted_fields_reach_the_handler_degraded_and_named_in_a_warning() {
    let logs = support::logs::capture();
    let cases = [
        (format!(r#"{{{IDS},"sequenceStep":"2"}}"#), r#"step Some(2) degraded [] extra {}"#),
        (format!(r#"{{{IDS},"sequenceStep":2.0}}"#), r#"step Some(2) degraded [] extra {}"#),
        (
            format!(r#"{{{IDS},"sequenceStep":"second"}}"#),
            r#"step None degraded ["sequenceStep"] extra {"sequenceStep":"second"}"#,
        ),
        (
            r#"{"emailLogId":123,"campaignId":"cmp_1","leadId":"cld_1"}"#.to_owned(),
            r#"email_sent 123 step None degraded [] extra {}"#,
        ),
    ];
    for (data, expected) in cases {
        for (status, lines) in deliver(&email_sent(r#""2025-01-15T10:30:00Z""#, &data)).await {
            assert_eq!(status, StatusCode::NO_CONTENT, "{data}");
            assert_eq!(lines.len(), 1, "{data}");
            assert!(lines[0].contains(expected), "{data}: {}", lines[0]);
        }
    }
    let text = logs.text();
    let warning = text.lines().find(|line| line.contains("data.sequenceStep")).expect("the field is named");
    assert!(warning.contains("WARN") && warning.contains("email.sent"), "{warning}");
    assert!(!text.contains("second"), "never the value: {text}");
}

#[tokio::test]
async fn a_lone_surrogate_a_byte_order_mark_and_a_repeated_key_are_read() {
    let reply = r#"{"event":"reply.received","timestamp":"2025-01-15T15:00:00Z","data":{"replyId":"crp_1","campaignId":"cmp_1","leadId":"cld_1","bodyPreview":"Thanks \ud83d"}}"#;
    for (status, lines) in deliver(reply).await {
        let expected = format!("reply_received {:?}", Some("Thanks \u{fffd}"));
        assert_eq!((status, lines), (StatusCode::NO_CONTENT, vec![expected]));
    }
    let bom = format!("\u{feff}{}", email_sent(r#""2025-01-15T10:30:00Z""#, &format!("{{{IDS}}}")));
    let repeated = email_sent(r#""2025-01-15T10:30:00Z""#, &format!(r#"{{{IDS},"sequenceStep":1,"sequenceStep":3}}"#));
    for (body, expected) in [(bom, "step None"), (repeated, "step Some(3)")] {
        for (status, lines) in deliver(&body).await {
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
            assert!(lines[0].contains(expected), "{body}: {lines:?}");
        }
    }
}

#[tokio::test]
async fn timestamps_as_foxreach_and_python_write_them_pass_the_replay_window() {
    for timestamp in [
        r#""2025-01-15T10:30:00""#,
        r#""2025-01-15T10:30:00.123456""#,
        r#""2025-01-15t10:30:00z""#,
        r#""2025-01-15T11:30:00+01:00""#,
        "1736937000",
    ] {
        for (status, lines) in deliver(&email_sent(timestamp, &format!("{{{IDS}}}"))).await {
            assert_eq!(status, StatusCode::NO_CONTENT, "{timestamp} is read as an instant");
            assert!(lines[0].ends_with(&format!("at {}", timestamp.trim_matches('"'))), "kept as sent: {lines:?}");
        }
    }
}

#[tokio::test]
async fn an_event_that_cannot_be_typed_reaches_untyped() {
    let campaign = r#"{"event":"campaign.completed","timestamp":"2025-02-01T18:00:00Z","data":null}"#;
    for (status, lines) in deliver(campaign).await {
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(lines, ["untyped campaign.completed (`data` is missing or null) data null at 2025-02-01T18:00:00Z"]);
    }
    let no_ids = email_sent(r#""2025-01-15T10:30:00Z""#, r#"{"leadId":"cld_1"}"#);
    for (status, lines) in deliver(&no_ids).await {
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(lines[0].starts_with("untyped email.sent (`data.emailLogId` is missing or null)"), "{lines:?}");
    }
}

#[tokio::test]
async fn by_default_an_untyped_event_is_acknowledged_and_logged_as_an_error() {
    let logs = support::logs::capture();
    /// Leaves every method, `untyped` included, to its default.
    struct Plain;
    impl Handler for Plain {}

    let no_ids = email_sent(r#""2025-01-15T10:30:00Z""#, r#"{"leadId":"cld_secret_lead"}"#);
    // Retrying the same body cannot type it: acknowledged, and logged.
    assert_eq!(statuses(&no_ids, Plain, Plain).await, [StatusCode::OK; 2]);
    let text = logs.text();
    let line = text.lines().find(|line| line.contains("failed permanently")).expect("logged");
    assert!(line.contains("ERROR") && line.contains("email.sent") && line.contains("data.emailLogId"), "{line}");
    assert!(!text.contains("cld_secret_lead"), "never the body: {text}");
}

#[tokio::test]
async fn what_is_not_an_event_is_still_refused() {
    for (body, status) in
        [("{not json", StatusCode::BAD_REQUEST), (r#"{"event":5,"data":{}}"#, StatusCode::UNPROCESSABLE_ENTITY)]
    {
        for (got, lines) in deliver(body).await {
            assert_eq!((got, lines), (status, vec![]), "{body}");
        }
    }
}

#[tokio::test]
async fn leads_and_campaigns_arrive_with_the_fields_of_foxreachs_api() {
    let lead = r#"{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{"leadId":"cld_789",
        "email":"ada@example.com","firstName":"Ada","lastName":"Lovelace","company":"Analytical Engines",
        "title":"CTO","phone":"+44 20 0000 0000","linkedinUrl":"https://linkedin.com/in/ada",
        "website":"https://example.com","customFields":{"plan":"pro","seats":12},"notes":"met at a fair",
        "tags":["vip","q1"],"status":"replied","source":"csv_import",
        "createdAt":"2025-01-10T09:00:00","updatedAt":"2025-01-15T10:00:00.123456"}}"#;
    for (status, lines) in deliver(lead).await {
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(
            lines,
            [
                r#"lead_updated cld_789 Some("Ada") Some("Analytical Engines") Some(Replied) Some(["vip", "q1"]) Some(2) updated Some(1736935200) degraded []"#
            ]
        );
    }
    let drifted = r#"{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{"leadId":"cld_789",
        "tags":"vip","status":3,"customFields":[]}}"#;
    for (status, lines) in deliver(drifted).await {
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(lines[0].ends_with(r#"degraded ["customFields", "tags", "status"]"#), "{lines:?}");
    }
    let campaign = r#"{"event":"campaign.completed","timestamp":"2025-02-01T18:00:00Z","data":{"campaignId":"cmp_456",
        "name":"Q1 outreach","status":"completed","timezone":"Europe/London","totalLeads":120,"totalSent":"118",
        "totalReplied":9.0,"startedAt":"2025-01-06T08:00:00","completedAt":"2025-02-01T18:00:00"}}"#;
    for (status, lines) in deliver(campaign).await {
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(
            lines,
            [r#"campaign_completed cmp_456 Some("Q1 outreach") Some(Completed) sent Some(118) replied Some(9)"#]
        );
    }
}
