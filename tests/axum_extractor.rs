//! The axum extractors, with and without the layer, in process.
#![cfg(all(feature = "axum", feature = "tower", feature = "test-util"))]

mod support;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use foxreach_webhooks::http::VerifiedBody;
use foxreach_webhooks::http::axum::FoxReachEvent;
use foxreach_webhooks::http::tower::VerifySignatureLayer;
use foxreach_webhooks::{EventData, Verifier};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use support::{PATH, SECRET, compact, fixtures, signed, signed_with, verifier};
use tower::ServiceExt;

/// Answers with the event's name and the id it is about.
async fn receive(FoxReachEvent(event): FoxReachEvent) -> String {
    let id = match &event.data {
        EventData::EmailSent(data) => data.email_log_id.clone(),
        EventData::EmailFailed(data) => data.email_log_id.clone(),
        EventData::EmailBounced(data) => data.email_log_id.clone(),
        EventData::EmailOpened(data) => data.email_log_id.clone(),
        EventData::ReplyReceived(data) => data.reply_id.clone(),
        EventData::ReplyCategorized(data) => data.reply_id.clone(),
        EventData::CampaignStarted(data) => data.campaign_id.clone(),
        EventData::CampaignPaused(data) => data.campaign_id.clone(),
        EventData::CampaignCompleted(data) => data.campaign_id.clone(),
        EventData::LeadCreated(data) => data.lead_id.clone(),
        EventData::LeadUpdated(data) => data.lead_id.clone(),
        EventData::Untyped(_) => "untyped".to_owned(),
        _ => "unknown".to_owned(),
    };
    format!("{} {id}", event.name())
}

async fn raw(body: VerifiedBody) -> String {
    format!("{} bytes", body.len())
}

fn app_with_state() -> Router {
    Router::new().route(PATH, post(receive)).route("/raw", post(raw)).with_state(verifier())
}

async fn send(app: &Router, request: Request<foxreach_webhooks::http::FullBody>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request.map(Body::new)).await.expect("infallible");
    let status = response.status();
    let body = response.into_body().collect().await.expect("a body").to_bytes();
    (status, String::from_utf8(body.to_vec()).expect("UTF-8"))
}

fn expected_id(name: &str) -> &'static str {
    match name.split('.').next() {
        Some("email") => "cel_123",
        Some("reply") => "crp_123",
        Some("campaign") => "cmp_456",
        _ => "cld_789",
    }
}

#[tokio::test]
async fn without_the_layer_the_extractor_verifies_with_the_state_verifier() {
    let app = app_with_state();
    for (name, pretty) in fixtures() {
        for body in [pretty.to_vec(), compact(pretty)] {
            let (status, text) = send(&app, signed(body)).await;
            assert_eq!((status, text), (StatusCode::OK, format!("{name} {}", expected_id(name))));
        }
    }
    let (status, text) = send(&app, signed_with("not-the-secret", fixtures()[0].1)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(text.contains("does not match"), "{text}");
}

#[tokio::test]
async fn rejections_have_the_layers_statuses() {
    let app = app_with_state();
    assert_eq!(send(&app, signed("{nope")).await.0, StatusCode::BAD_REQUEST);
    let no_event = r#"{"event":null,"timestamp":"t","data":{"leadId":"cld_1"}}"#;
    assert_eq!(send(&app, signed(no_event)).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    // A documented type without its ids is extracted untyped, not refused.
    let untyped = r#"{"event":"reply.received","timestamp":"t","data":{"leadId":"cld_1"}}"#;
    assert_eq!(send(&app, signed(untyped)).await, (StatusCode::OK, "reply.received untyped".to_owned()));
    let unknown = r#"{"event":"lead.merged","timestamp":"t","data":{}}"#;
    assert_eq!(send(&app, signed(unknown)).await, (StatusCode::OK, "lead.merged unknown".to_owned()));
    let mut huge = fixtures()[0].1.to_vec();
    huge.resize(foxreach_webhooks::http::DEFAULT_BODY_LIMIT + 1, b' ');
    assert_eq!(send(&app, signed(huge)).await.0, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn axums_default_body_limit_still_applies() {
    let app = app_with_state().layer(DefaultBodyLimit::max(100));
    let mut body = fixtures()[0].1.to_vec();
    body.resize(150, b' ');
    let request = signed(body);
    // Without Content-Length the cap is met while reading, as for a chunked body.
    let (parts, body) = request.into_parts();
    let mut parts = parts;
    parts.headers.remove(http::header::CONTENT_LENGTH);
    let (status, _) = send(&app, Request::from_parts(parts, body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn behind_the_layer_the_extractors_reuse_its_work() {
    // The state holds a verifier for another secret: had the extractors
    // verified again, every request would be refused.
    let other = Verifier::new("a-secret-the-layer-does-not-use").expect("not empty");
    for layer in [VerifySignatureLayer::new(verifier()), VerifySignatureLayer::new(verifier()).parse_events(false)] {
        let app =
            Router::new().route(PATH, post(receive)).route("/raw", post(raw)).layer(layer).with_state(other.clone());
        let (name, body) = fixtures()[4];
        assert_eq!(send(&app, signed(body)).await, (StatusCode::OK, format!("{name} crp_123")));
        let mut raw_request = signed(body);
        *raw_request.uri_mut() = "/raw".parse().expect("a path");
        assert_eq!(send(&app, raw_request).await, (StatusCode::OK, format!("{} bytes", body.len())));
        assert_eq!(send(&app, signed_with(SECRET.trim_end_matches('2'), body)).await.0, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn route_layer_guards_only_its_routes() {
    let app = Router::new()
        .route(PATH, post(receive))
        .route_layer(VerifySignatureLayer::new(verifier()))
        .route("/health", axum::routing::get(|| async { "up" }))
        .with_state(verifier());
    let health = Request::get("/health").body(Body::empty()).expect("a request");
    assert_eq!(app.clone().oneshot(health).await.expect("infallible").status(), StatusCode::OK);
    assert_eq!(send(&app, signed_with("nope", fixtures()[0].1)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&app, signed(fixtures()[0].1)).await.0, StatusCode::OK);
}
