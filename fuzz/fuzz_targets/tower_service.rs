//! The whole tower service: arbitrary signature headers, a declared length,
//! a body in arbitrary chunks, a limit around the body's size, parsing on or
//! off. It never panics, and its answer is exactly what the contract says.
#![no_main]

use std::convert::Infallible;
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use arbitrary::Arbitrary;
use bytes::Bytes;
use foxreach_webhooks::http::VerifiedBody;
use foxreach_webhooks::http::tower::{RequestBody, VerifySignatureLayer};
use foxreach_webhooks::{Event, SIGNATURE_HEADER, Verifier};
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use libfuzzer_sys::fuzz_target;
use tower::{Layer, Service, service_fn};

const SECRET: &str = "fuzzing-secret";

#[derive(Debug, Arbitrary)]
struct Input {
    chunks: Vec<Vec<u8>>,
    /// Headers to send; `None` stands for the body's true signature.
    signatures: Vec<Option<Vec<u8>>>,
    declare_length: bool,
    /// How far the limit sits from the body's length.
    limit_offset: i8,
    parse: bool,
}

/// The chunks, in order, with no length announced.
struct Chunks(std::vec::IntoIter<Bytes>);

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.next().map(|chunk| Ok(Frame::data(chunk))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// Polls a future that cannot wait on anything: every body here is in memory.
fn complete<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the service waited with an in-memory body"),
    }
}

fuzz_target!(|input: Input| {
    let body: Vec<u8> = input.chunks.concat();
    let verifier = Verifier::new(SECRET).expect("not empty");
    let signature = verifier.sign(&body);
    let limit = (body.len() as i64 + i64::from(input.limit_offset)).max(0) as usize;

    let mut request = Request::post("/webhooks/foxreach");
    let mut headers = Vec::new();
    for value in &input.signatures {
        let value = value.clone().unwrap_or_else(|| signature.clone().into_bytes());
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            request = request.header(SIGNATURE_HEADER, value.clone());
            headers.push(value);
        }
    }
    if input.declare_length {
        request = request.header(header::CONTENT_LENGTH, body.len());
    }
    let chunks: Vec<Bytes> = input.chunks.into_iter().map(Bytes::from).collect();
    let request = request.body(Chunks(chunks.into_iter())).expect("a valid request");

    let (sent, parse) = (Bytes::from(body.clone()), input.parse);
    let mut service = VerifySignatureLayer::new(verifier.clone()).body_limit(limit).parse_events(parse).layer(
        service_fn(move |request: Request<RequestBody>| {
            let sent = sent.clone();
            async move {
                // The inner service sees exactly the bytes sent, and an event only when parsing is on.
                let verified = request.extensions().get::<VerifiedBody>().expect("the layer stores the body").clone();
                assert_eq!(request.extensions().get::<Event>().is_some(), parse);
                let bytes = complete(http_body_util::BodyExt::collect(request.into_body())).expect("infallible");
                assert_eq!(bytes.to_bytes(), sent);
                assert_eq!(*verified.bytes(), sent);
                Ok::<_, Infallible>(Response::new(http_body_util::Empty::<Bytes>::new()))
            }
        }),
    );
    assert!(complete(std::future::poll_fn(|cx| Service::<Request<Chunks>>::poll_ready(&mut service, cx))).is_ok());
    let response = complete(service.call(request)).expect("infallible");
    let status = response.status();

    // What the contract says the answer must be.
    let expected = if body.len() > limit {
        StatusCode::PAYLOAD_TOO_LARGE
    } else if !(headers.len() == 1 && headers[0].as_bytes().eq_ignore_ascii_case(signature.as_bytes())) {
        StatusCode::UNAUTHORIZED
    } else if input.parse {
        match Event::from_slice_lenient(&body) {
            Ok(_) => StatusCode::OK,
            Err(err) if err.kind() == foxreach_webhooks::event::ParseErrorKind::Data => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Err(_) => StatusCode::BAD_REQUEST,
        }
    } else {
        StatusCode::OK
    };
    assert_eq!(status, expected, "body of {} bytes, limit {limit}, headers {headers:?}", body.len());
});
