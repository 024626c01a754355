//! The tower layer in process: what reaches the inner service, and what is refused with which status.
#![cfg(all(feature = "tower", feature = "test-util"))]

mod support;

use std::convert::Infallible;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use foxreach_webhooks::http::VerifiedBody;
use foxreach_webhooks::http::tower::{RequestBody, VerifySignatureLayer};
use foxreach_webhooks::{Event, SIGNATURE_HEADER, sign};
use http::{Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::BodyExt;
use support::{SECRET, Stream, Unread, compact, fixtures, signed, signed_with, verifier, with_headers, zero_signed};
use tower::{Layer, ServiceExt, service_fn};

/// Answers with what it saw: the event's name (or `-` when the layer did not
/// parse), a newline, and the body it read, after checking that the body and
/// the `VerifiedBody` extension hold the same bytes.
async fn echo(request: Request<RequestBody>) -> Result<Response<String>, Infallible> {
    let name = request.extensions().get::<Event>().map_or("-".to_owned(), |event| event.name().to_owned());
    let verified = request.extensions().get::<VerifiedBody>().expect("the layer stores the verified body").clone();
    let body = request.into_body().collect().await.expect("infallible").to_bytes();
    assert_eq!(body, *verified.bytes(), "the inner service reads the bytes that were verified");
    Ok(Response::new(format!("{name}\n{}", String::from_utf8_lossy(&body))))
}

async fn call<B>(layer: VerifySignatureLayer, request: Request<B>) -> (StatusCode, String)
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let response = layer.layer(service_fn(echo)).oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = response.into_body().collect().await.expect("infallible").to_bytes();
    (status, String::from_utf8(body.to_vec()).expect("UTF-8"))
}

fn layer() -> VerifySignatureLayer {
    VerifySignatureLayer::new(verifier())
}

#[tokio::test]
async fn every_fixture_pretty_and_compact_reaches_the_service_with_its_bytes_and_event() {
    for (name, pretty) in fixtures() {
        for body in [pretty.to_vec(), compact(pretty)] {
            let (status, echoed) = call(layer(), signed(body.clone())).await;
            assert_eq!(status, StatusCode::OK, "{name}: {echoed}");
            assert_eq!(echoed, format!("{name}\n{}", String::from_utf8_lossy(&body)));
        }
    }
}

#[tokio::test]
async fn forged_and_broken_signatures_are_401_with_a_reason() {
    let (_, body) = fixtures()[0];
    let good = sign(SECRET, body);
    let mut tampered = body.to_vec();
    tampered[20] ^= 1;
    let cases: Vec<(&str, Request<_>, &str)> = vec![
        ("tampered body", with_headers(tampered, &[good.as_bytes()]), "does not match"),
        ("wrong secret", signed_with("another-secret", body), "does not match"),
        ("no header", with_headers(body, &[]), "missing X-Webhook-Signature"),
        ("empty header", with_headers(body, &[b""]), "missing X-Webhook-Signature"),
        ("sha256= prefix", with_headers(body, &[format!("sha256={good}").as_bytes()]), "no prefix"),
        ("two headers", with_headers(body, &[good.as_bytes(), good.as_bytes()]), "exactly one"),
        ("8 KiB of junk", with_headers(body, &[&[b'j'; 8192]]), "64 hex digits"),
        ("non-ASCII bytes", with_headers(body, &[&[0xc3; 64]]), "not all hex digits"),
    ];
    for (what, request, reason) in cases {
        let (status, text) = call(layer(), request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
        assert!(text.contains(reason), "{what}: {text}");
        assert!(!text.contains(SECRET) && !text.contains(&good), "{what} leaks: {text}");
    }
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_413_without_reading_the_body() {
    let request = Request::post(support::PATH)
        .header(header::CONTENT_LENGTH, 1024 * 1024 * 1024)
        .header(SIGNATURE_HEADER, "0".repeat(64))
        .body(Unread)
        .expect("a request");
    let (status, text) = call(layer(), request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text.contains("1048576 bytes"), "{text}");
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_as_soon_as_it_crosses() {
    let (body, pulled) = Stream::new(16 * 1024, 64 * 1024); // 1 GiB if it were all read
    let request = zero_signed(body);
    let (status, _) = call(layer(), request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let pulled = pulled.load(Ordering::SeqCst);
    assert!(pulled <= 1024 * 1024 + 16 * 1024, "read {pulled} bytes past a 1 MiB limit");
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_passes_and_one_byte_more_does_not() {
    let (_, body) = fixtures()[0];
    let limit = 4096;
    let mut exact = body.to_vec();
    exact.resize(limit, b' '); // trailing whitespace is still the same JSON
    let (status, _) = call(layer().body_limit(limit), signed(exact.clone())).await;
    assert_eq!(status, StatusCode::OK);
    exact.push(b' ');
    let (status, _) = call(layer().body_limit(limit), signed(exact.clone())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "with Content-Length");
    let chunked = Request::post(support::PATH)
        .header(SIGNATURE_HEADER, sign(SECRET, &exact))
        .body(Stream::of(exact, 100).0)
        .expect("a request");
    let (status, _) = call(layer().body_limit(limit), chunked).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "chunked");
}

#[tokio::test]
async fn a_body_that_fails_mid_way_is_400() {
    let request = zero_signed(Stream::failing_after(1024, 3));
    let (status, text) = call(layer(), request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("could not be read"), "{text}");
}

#[tokio::test]
async fn verified_bodies_that_are_not_events_are_400_or_422_and_unknown_or_untyped_pass() {
    let (status, text) = call(layer(), signed("{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let (status, _) = call(layer(), signed("")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let no_event = r#"{"timestamp":"2025-01-15T10:30:00Z","data":{"leadId":"cld_1"}}"#;
    let (status, text) = call(layer(), signed(no_event)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text.contains("missing field `event`"), "{text}");
    // A documented type without its ids passes, untyped, for the service to keep.
    let untyped = r#"{"event":"email.sent","timestamp":"2025-01-15T10:30:00Z","data":{"leadId":"cld_1"}}"#;
    let (status, text) = call(layer(), signed(untyped)).await;
    assert_eq!((status, text.lines().next()), (StatusCode::OK, Some("email.sent")));
    let unknown = r#"{"event":"sequence.finished","timestamp":"2026-03-01T00:00:00Z","data":{"campaignId":"cmp_9"}}"#;
    let (status, text) = call(layer(), signed(unknown)).await;
    assert_eq!((status, text.lines().next()), (StatusCode::OK, Some("sequence.finished")));
}

#[tokio::test]
async fn with_parsing_off_the_service_gets_verified_bytes_only() {
    let (status, text) = call(layer().parse_events(false), signed("{not json")).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "-\n{not json"));
    let (status, _) = call(layer().parse_events(false), signed_with("other", "{}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "verification stays on");
}
