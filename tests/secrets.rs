//! No public type that can hold a secret, and no rejection, ever shows the
//! secret or the MAC the receiver computed.
#![cfg(all(feature = "axum", feature = "tower", feature = "test-util"))]

mod support;

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use foxreach_webhooks::http::axum::FoxReachEvent;
use foxreach_webhooks::http::tower::{VerifySignature, VerifySignatureLayer};
use foxreach_webhooks::{SIGNATURE_HEADER, SecretError, Verifier, VerifyError, sign, verify};
use http::Request;
use http_body_util::BodyExt;
use support::{SECRET, Stream, fixtures, with_headers};
use tower::ServiceExt;

/// Fails if `text` contains the secret, or any 16 digits of `mac`, in any case.
fn assert_clean(what: &str, text: &str, mac: &str) {
    let lower = text.to_ascii_lowercase();
    assert!(!lower.contains(&SECRET.to_ascii_lowercase()), "{what} shows the secret: {text}");
    for window in mac.as_bytes().chunks(16) {
        let window = std::str::from_utf8(window).expect("hex");
        assert!(!lower.contains(window), "{what} shows part of the expected MAC: {text}");
    }
}

#[test]
fn debug_and_display_of_every_type_holding_a_secret() {
    let mac = sign(SECRET, fixtures()[0].1);
    let verifier = Verifier::from_secrets([SECRET, "second-secret"]).expect("not empty");
    assert_clean("Verifier", &format!("{verifier:?} {verifier:#?}"), &mac);
    let layer = VerifySignatureLayer::new(verifier.clone()).body_limit(10).parse_events(false);
    assert_clean("VerifySignatureLayer", &format!("{layer:?}"), &mac);
    let service = VerifySignature::new(tower::service_fn(|_: ()| async { Ok::<_, ()>(()) }), verifier);
    assert_clean("VerifySignature", &format!("{service:?}"), &mac);
    for err in [SecretError::Empty, SecretError::NoSecrets] {
        assert_clean("SecretError", &format!("{err} {err:?}"), &mac);
    }
}

#[test]
fn verify_errors_never_show_the_expected_mac() {
    let (_, body) = fixtures()[0];
    let mac = sign(SECRET, body);
    let mut wrong = mac.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let headers: [&[u8]; 5] = [b"", &wrong, b"sha256=abc", &[0xff; 64], &[b'z'; 64]];
    for header in headers {
        let err = verify(SECRET, body, header).expect_err("every header is wrong");
        assert_clean("VerifyError", &format!("{err} {err:?}"), &mac);
    }
    let err = verify("", body, &mac).expect_err("an empty secret never verifies");
    assert_eq!(err, VerifyError::EmptySecret);
    assert_clean("VerifyError::EmptySecret", &format!("{err} {err:?}"), &mac);
}

#[tokio::test]
async fn rejection_bodies_of_the_layer_and_the_extractor() {
    let (_, body) = fixtures()[0];
    let mac = sign(SECRET, body);
    let mut wrong = mac.clone().into_bytes();
    wrong[63] = if wrong[63] == b'0' { b'1' } else { b'0' };
    let app = Router::new()
        .route("/extractor", post(|FoxReachEvent(event): FoxReachEvent| async move { event.name().to_owned() }))
        .route(
            "/layer",
            post(|| async { "ok" }).layer(VerifySignatureLayer::new(support::verifier()).body_limit(64 * 1024)),
        )
        .with_state(support::verifier());
    for path in ["/extractor", "/layer"] {
        let signed_not_json = sign(SECRET, b"{not json");
        let requests: Vec<Request<Body>> = vec![
            with_headers(body, &[]).map(Body::new),
            with_headers(body, &[&wrong]).map(Body::new),
            with_headers(body, &[b"sha256=00"]).map(Body::new),
            with_headers(body, &[mac.as_bytes(), mac.as_bytes()]).map(Body::new),
            with_headers("{not json", &[signed_not_json.as_bytes()]).map(Body::new),
            Request::post(path)
                .header(SIGNATURE_HEADER, &mac)
                .body(Body::new(Stream::new(64 * 1024, 40).0))
                .expect("a request"),
        ];
        for mut request in requests {
            *request.uri_mut() = path.parse().expect("a path");
            let response = app.clone().oneshot(request).await.expect("infallible");
            let status = response.status();
            assert!(status.is_client_error(), "{path}: {status}");
            let text = String::from_utf8(response.into_body().collect().await.expect("a body").to_bytes().to_vec())
                .expect("UTF-8");
            assert!(!text.is_empty(), "{path}: every refusal says why");
            assert_clean(&format!("{path} {status}"), &text, &mac);
        }
    }
}
