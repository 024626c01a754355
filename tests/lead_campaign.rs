//! Lead and campaign events typed with the fields of FoxReach's API reference.

use foxreach_webhooks::event::{
    CampaignCompleted, CampaignPaused, CampaignStarted, CampaignStatus, LeadCreated, LeadSource, LeadStatus,
    LeadUpdated, Timestamp,
};
use foxreach_webhooks::{Event, EventData};
use serde_json::{Value, json};

fn event(name: &str, data: &Value) -> Event {
    let body = json!({"event": name, "timestamp": "2025-01-15T10:00:00Z", "data": data});
    let body = serde_json::to_vec(&body).expect("serializes");
    let event = Event::from_slice_lenient(&body).expect("parses");
    // Coerced values (`"350"`, `10.0`, an integer id) are written back in their typed form.
    let written: Value = serde_json::to_value(&event).expect("serializes");
    assert_eq!(Event::from_slice_lenient(&serde_json::to_vec(&written).expect("bytes")).expect("reparses"), event);
    event
}

fn lead() -> Value {
    json!({
        "leadId": "cld_789", "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace",
        "company": "Analytical Engines", "title": "CTO", "phone": "+44 20 7946 0000",
        "linkedinUrl": "https://www.linkedin.com/in/ada", "website": "https://example.com",
        "customFields": {"industry": "computing", "seats": 12}, "notes": "Met at a conference",
        "tags": ["vip", "q1"], "status": "replied", "source": "csv_import",
        "createdAt": "2025-01-14T08:00:00", "updatedAt": "2025-01-15T16:00:00.123456"
    })
}

#[test]
fn a_full_lead_is_typed() {
    let parsed = event("lead.created", &lead());
    assert_eq!(serde_json::to_value(&parsed).expect("serializes")["data"], lead(), "written back as sent");
    let EventData::LeadCreated(created) = parsed.data else { panic!("wrong variant") };
    let mut expected = LeadCreated::new("cld_789");
    expected.email = Some("ada@example.com".into());
    expected.first_name = Some("Ada".into());
    expected.last_name = Some("Lovelace".into());
    expected.company = Some("Analytical Engines".into());
    expected.title = Some("CTO".into());
    expected.phone = Some("+44 20 7946 0000".into());
    expected.linkedin_url = Some("https://www.linkedin.com/in/ada".into());
    expected.website = Some("https://example.com".into());
    expected.custom_fields = json!({"industry": "computing", "seats": 12}).as_object().cloned();
    expected.notes = Some("Met at a conference".into());
    expected.tags = Some(vec!["vip".into(), "q1".into()]);
    expected.status = Some(LeadStatus::Replied);
    expected.source = Some(LeadSource::CsvImport);
    expected.created_at = Some(Timestamp::new("2025-01-14T08:00:00"));
    expected.updated_at = Some(Timestamp::new("2025-01-15T16:00:00.123456"));
    assert_eq!(created, expected);
    assert!(created.degraded_fields().is_empty());
    assert_eq!(created.created_at.expect("set").instant().expect("UTC").unix_timestamp(), 1_736_841_600);

    let EventData::LeadUpdated(updated) = event("lead.updated", &lead()).data else { panic!("wrong variant") };
    assert_eq!((updated.status, updated.source), (Some(LeadStatus::Replied), Some(LeadSource::CsvImport)));
    let unknown = json!({"leadId": "cld_1", "status": "archived", "source": "zapier"});
    let EventData::LeadUpdated(updated) = event("lead.updated", &unknown).data else { panic!("wrong variant") };
    assert_eq!(updated.status, Some(LeadStatus::Other("archived".into())));
    assert_eq!(updated.source, Some(LeadSource::Other("zapier".into())));
    assert!(LeadUpdated::new("cld_1").degraded_fields().is_empty());
}

#[test]
fn wrong_typed_lead_fields_degrade_with_their_wire_names() {
    let data = json!({
        "leadId": 42, "email": ["a@example.com"], "customFields": "none", "tags": ["vip", 3],
        "status": 1, "createdAt": true, "notes": null
    });
    let event = event("lead.created", &data);
    assert_eq!(event.degraded_fields(), ["email", "customFields", "tags", "status", "createdAt"]);
    let EventData::LeadCreated(lead) = event.data else { panic!("wrong variant") };
    assert_eq!(lead.lead_id, "42");
    assert_eq!((lead.email, lead.custom_fields, lead.tags), (None, None, None));
    assert_eq!((lead.status, lead.created_at, lead.notes), (None, None, None));
    for wire in ["email", "customFields", "tags", "status", "createdAt"] {
        assert_eq!(lead.extra[wire], data[wire], "{wire} kept raw");
    }
    assert!(!lead.extra.contains_key("notes"), "null is not degraded");
}

fn campaign() -> Value {
    json!({
        "campaignId": "cmp_456", "name": "Q1 outreach", "status": "completed", "timezone": "Europe/Berlin",
        "totalLeads": 120, "totalSent": 360, "totalDelivered": "350", "totalBounced": 10.0,
        "totalReplied": 12, "totalOpened": 200, "startedAt": "2025-01-15T09:00:00",
        "completedAt": 1_738_432_800
    })
}

#[test]
fn a_full_campaign_is_typed_for_each_campaign_event() {
    let check =
        |status: Option<CampaignStatus>, name: Option<String>, totals: [Option<u64>; 6], at: [Option<Timestamp>; 2]| {
            assert_eq!(status, Some(CampaignStatus::Completed));
            assert_eq!(name.as_deref(), Some("Q1 outreach"));
            assert_eq!(totals, [Some(120), Some(360), Some(350), Some(10), Some(12), Some(200)]);
            assert_eq!(
                at,
                [Some(Timestamp::new("2025-01-15T09:00:00")), Some(Timestamp::from_value(json!(1_738_432_800)))]
            );
        };
    match event("campaign.completed", &campaign()).data {
        EventData::CampaignCompleted(c) => {
            assert_eq!((c.campaign_id.as_str(), c.timezone.as_deref()), ("cmp_456", Some("Europe/Berlin")));
            assert!(c.degraded_fields().is_empty() && c.extra.is_empty());
            let totals =
                [c.total_leads, c.total_sent, c.total_delivered, c.total_bounced, c.total_replied, c.total_opened];
            check(c.status, c.name, totals, [c.started_at, c.completed_at]);
        }
        other => panic!("wrong variant {other:?}"),
    }
    let EventData::CampaignStarted(started) = event("campaign.started", &campaign()).data else { panic!() };
    assert_eq!(started.total_sent, Some(360));
    let EventData::CampaignPaused(paused) = event("campaign.paused", &campaign()).data else { panic!() };
    assert_eq!(paused.status, Some(CampaignStatus::Completed));
    assert_eq!(CampaignStarted::new("c").name, CampaignPaused::new("c").name);
    assert!(CampaignCompleted::new("c").degraded_fields().is_empty());
}

#[test]
fn wrong_typed_campaign_fields_degrade() {
    let data = json!({"campaignId": "cmp_1", "totalSent": -3, "totalOpened": 1.5, "status": {}, "timezone": 1});
    let event = event("campaign.paused", &data);
    assert_eq!(event.degraded_fields(), ["status", "timezone", "totalSent", "totalOpened"]);
}

#[test]
fn a_date_time_field_may_be_a_number_of_seconds() {
    // Negative (before 1970), positive and fractional: each a timestamp as sent, none degraded.
    for seconds in [json!(-5), json!(1_736_935_200), json!(1_736_935_200.5)] {
        let EventData::LeadCreated(created) =
            event("lead.created", &json!({"leadId": "cld_1", "createdAt": seconds})).data
        else {
            panic!("not typed: {seconds}")
        };
        assert_eq!(created.created_at, Some(Timestamp::from_value(seconds.clone())), "{seconds}");
        assert!(created.degraded_fields().is_empty(), "{seconds}");
    }
}
