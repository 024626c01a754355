//! Properties over generated secrets, bodies and events.

use foxreach_webhooks::event::{
    BounceType, CampaignCompleted, CampaignPaused, CampaignStarted, EmailBounced, EmailFailed, EmailOpened, EmailSent,
    LeadCreated, LeadUpdated, ReplyCategorized, ReplyCategory, ReplyReceived, Timestamp, UnknownEvent,
};
use foxreach_webhooks::{Event, EventData, EventType, Verifier, VerifyError, sign, verify};
use hmac::{Hmac, KeyInit, Mac};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{Map, Value};
use sha2::Sha256;

fn secret() -> impl Strategy<Value = Vec<u8>> {
    // Around the 64-byte block size, where HMAC hashes long keys first.
    vec(any::<u8>(), 1..=150)
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    // Past two blocks, so that every tail-padding case is reached.
    vec(any::<u8>(), 0..=300)
}

proptest! {
    #[test]
    fn sign_agrees_with_the_hmac_crate(secret in secret(), body in body()) {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&secret).expect("any key length");
        mac.update(&body);
        let expected = hex::encode(mac.finalize().into_bytes());
        prop_assert_eq!(sign(&secret, &body), expected.clone());
        prop_assert_eq!(Verifier::new(&secret).expect("not empty").sign(&body), expected);
    }

    #[test]
    fn what_is_signed_verifies(secret in secret(), body in body()) {
        let signature = sign(&secret, &body);
        prop_assert_eq!(verify(&secret, &body, &signature), Ok(()));
        prop_assert_eq!(Verifier::new(&secret).expect("not empty").verify(&body, &signature), Ok(()));
    }

    #[test]
    fn a_flipped_body_bit_is_rejected(secret in secret(), body in vec(any::<u8>(), 1..=300), bit in any::<prop::sample::Index>()) {
        let signature = sign(&secret, &body);
        let mut tampered = body.clone();
        let bit = bit.index(tampered.len() * 8);
        tampered[bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(verify(&secret, &tampered, &signature), Err(VerifyError::Mismatch));
        prop_assert_eq!(Verifier::new(&secret).expect("not empty").verify(&tampered, &signature), Err(VerifyError::Mismatch));
    }

    #[test]
    fn a_flipped_mac_bit_is_rejected(secret in secret(), body in body(), bit in 0usize..256) {
        let mut mac = hex::decode(sign(&secret, &body)).expect("hex");
        mac[bit / 8] ^= 1 << (bit % 8);
        let signature = hex::encode(mac);
        prop_assert_eq!(Verifier::new(&secret).expect("not empty").verify(&body, &signature), Err(VerifyError::Mismatch));
    }

    /// Flipping a bit of the header text is rejected, except where it only
    /// changes a letter's case (bit 5 of `a`–`f`): hex is case-insensitive.
    #[test]
    fn a_flipped_header_bit_is_rejected_unless_it_only_changes_case(secret in secret(), body in body(), bit in 0usize..512) {
        let signature = sign(&secret, &body);
        let mut header = signature.clone().into_bytes();
        header[bit / 8] ^= 1 << (bit % 8);
        let only_case = header[bit / 8].eq_ignore_ascii_case(&signature.as_bytes()[bit / 8]);
        let result = verify(&secret, &body, &header);
        if only_case {
            prop_assert_eq!(result, Ok(()));
        } else {
            prop_assert!(matches!(result, Err(VerifyError::Mismatch | VerifyError::Malformed { .. })), "{:?}", result);
        }
    }

    #[test]
    fn only_a_listed_secret_verifies(a in secret(), b in secret(), c in secret(), body in body()) {
        prop_assume!(c != a && c != b);
        let verifier = Verifier::from_secrets([&a, &b]).expect("not empty");
        prop_assert_eq!(verifier.verify(&body, sign(&a, &body)), Ok(()));
        prop_assert_eq!(verifier.verify(&body, sign(&b, &body)), Ok(()));
        prop_assert_eq!(verifier.verify(&body, sign(&c, &body)), Err(VerifyError::Mismatch));
    }

    #[test]
    fn events_round_trip_through_the_wire_format(event in event()) {
        let body = serde_json::to_vec(&event).expect("events serialize");
        let parsed = Event::from_slice(&body).expect("what we write, we read");
        prop_assert_eq!(&parsed, &event);
        let pretty = serde_json::to_vec_pretty(&event).expect("events serialize");
        prop_assert_eq!(Event::from_slice(&pretty).expect("pretty too"), event);
    }
}

fn text() -> impl Strategy<Value = String> {
    // Quotes, backslashes and non-ASCII, which JSON must escape or carry.
    "[a-zA-Z0-9_ \"\\\\é🚀\u{7}]{0,12}"
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()).prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![vec(inner.clone(), 0..4).prop_map(Value::from), btree_map(text(), inner, 0..4).prop_map(object)]
    })
}

/// Extra fields, named so that they cannot collide with a documented one.
fn extra() -> impl Strategy<Value = Map<String, Value>> {
    btree_map("x[A-Za-z]{0,6}", json(), 0..3).prop_map(|map| map.into_iter().collect())
}

fn object(map: std::collections::BTreeMap<String, Value>) -> Value {
    Value::Object(map.into_iter().collect())
}

fn bounce_type() -> impl Strategy<Value = BounceType> {
    prop_oneof![Just(BounceType::Hard), Just(BounceType::Soft), "[a-z]{1,6}".prop_map(|s| BounceType::from(&*s))]
}

fn category() -> impl Strategy<Value = ReplyCategory> {
    prop_oneof![
        Just(ReplyCategory::Interested),
        Just(ReplyCategory::NotInterested),
        Just(ReplyCategory::OutOfOffice),
        Just(ReplyCategory::Uncategorized),
        "[a-z_]{1,8}".prop_map(|s| ReplyCategory::from(&*s)),
    ]
}

/// Email event ids and the fields they share.
type EmailCommon = ((String, String, String), Option<String>, Map<String, Value>);

fn email_common() -> impl Strategy<Value = EmailCommon> {
    ((text(), text(), text()), option::of(text()), extra())
}

fn data() -> impl Strategy<Value = EventData> {
    let opt = || option::of(text());
    prop_oneof![
        (email_common(), opt(), opt(), option::of(any::<u32>())).prop_map(
            |(((l, c, d), to, extra), from, subject, step)| {
                let mut data = EmailSent::new(l, c, d);
                (data.to_email, data.from_email, data.subject, data.sequence_step, data.extra) =
                    (to, from, subject, step, extra);
                EventData::EmailSent(data)
            }
        ),
        (email_common(), opt()).prop_map(|(((l, c, d), to, extra), error)| {
            let mut data = EmailFailed::new(l, c, d);
            (data.to_email, data.error, data.extra) = (to, error, extra);
            EventData::EmailFailed(data)
        }),
        (email_common(), option::of(bounce_type())).prop_map(|(((l, c, d), to, extra), bounce)| {
            let mut data = EmailBounced::new(l, c, d);
            (data.to_email, data.bounce_type, data.extra) = (to, bounce, extra);
            EventData::EmailBounced(data)
        }),
        email_common().prop_map(|((l, c, d), to, extra)| {
            let mut data = EmailOpened::new(l, c, d);
            (data.to_email, data.extra) = (to, extra);
            EventData::EmailOpened(data)
        }),
        ((text(), text(), text()), opt(), opt(), opt(), extra()).prop_map(
            |((r, c, l), from, subject, preview, extra)| {
                let mut data = ReplyReceived::new(r, c, l);
                (data.from_email, data.subject, data.body_preview, data.extra) = (from, subject, preview, extra);
                EventData::ReplyReceived(data)
            }
        ),
        (text(), option::of(category()), option::of(category()), extra()).prop_map(|(r, now, before, extra)| {
            let mut data = ReplyCategorized::new(r);
            (data.category, data.previous_category, data.extra) = (now, before, extra);
            EventData::ReplyCategorized(data)
        }),
        (text(), extra(), 0..3).prop_map(|(campaign, extra, which)| match which {
            0 => EventData::CampaignStarted({
                let mut d = CampaignStarted::new(campaign);
                d.extra = extra;
                d
            }),
            1 => EventData::CampaignPaused({
                let mut d = CampaignPaused::new(campaign);
                d.extra = extra;
                d
            }),
            _ => EventData::CampaignCompleted({
                let mut d = CampaignCompleted::new(campaign);
                d.extra = extra;
                d
            }),
        }),
        (text(), opt(), extra(), any::<bool>()).prop_map(|(lead, email, extra, created)| if created {
            EventData::LeadCreated({
                let mut d = LeadCreated::new(lead);
                (d.email, d.extra) = (email, extra);
                d
            })
        } else {
            EventData::LeadUpdated({
                let mut d = LeadUpdated::new(lead);
                (d.email, d.extra) = (email, extra);
                d
            })
        }),
        ("[a-z]{1,8}\\.[a-z]{1,8}", json())
            .prop_filter("a documented type is not unknown", |(name, _)| name.parse::<EventType>().is_err())
            .prop_map(|(name, data)| EventData::Unknown(UnknownEvent::new(name, data))),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    (text(), data(), extra()).prop_map(|(timestamp, data, extra)| {
        let mut event = Event::new(Timestamp::new(timestamp), data);
        event.extra = extra;
        event
    })
}
