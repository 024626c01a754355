//! What the HTTP tests share: the docs secret, the fixtures, signed requests
//! and bodies that count what was read from them.
#![allow(dead_code)] // each test crate uses its own part of this

pub(crate) mod logs;
#[cfg(feature = "metrics")]
pub(crate) mod recorder;
#[cfg(feature = "delivery")]
pub(crate) mod resolvers;

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use foxreach_webhooks::http::FullBody;
use foxreach_webhooks::{SIGNATURE_HEADER, Verifier};
use http::Request;
use http_body::{Body, Frame};

/// The example secret from FoxReach's documentation.
pub(crate) const SECRET: &str = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6a7b8c9d0e1f2";
pub(crate) const PATH: &str = "/webhooks/foxreach";

pub(crate) fn verifier() -> Verifier {
    Verifier::new(SECRET).expect("the docs secret is not empty")
}

/// Every documented payload, pretty-printed as FoxReach delivers it, with its event name.
pub(crate) fn fixtures() -> Vec<(&'static str, &'static [u8])> {
    macro_rules! fixtures {
        ($($name:literal),*) => {
            vec![$(($name, include_bytes!(concat!("../fixtures/payloads/", $name, ".json")).as_slice())),*]
        };
    }
    fixtures!(
        "email.sent",
        "email.failed",
        "email.bounced",
        "email.opened",
        "reply.received",
        "reply.categorized",
        "campaign.started",
        "campaign.paused",
        "campaign.completed",
        "lead.created",
        "lead.updated"
    )
}

/// The same JSON without its whitespace: a different body with its own signature.
pub(crate) fn compact(body: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(body).expect("fixtures are JSON")).expect("JSON")
}

/// A POST of `body` to [`PATH`] signed with `secret`.
pub(crate) fn signed_with(secret: &str, body: impl Into<Bytes>) -> Request<FullBody> {
    let verifier = Verifier::new(secret).expect("test secrets are not empty");
    foxreach_webhooks::http::test_util::signed(&verifier, PATH, body)
}

/// A POST of `body` to [`PATH`] signed with the docs secret.
pub(crate) fn signed(body: impl Into<Bytes>) -> Request<FullBody> {
    signed_with(SECRET, body)
}

/// A POST of `body` with whatever signature headers are given.
pub(crate) fn with_headers(body: impl Into<Bytes>, signatures: &[&[u8]]) -> Request<FullBody> {
    let mut request = Request::post(PATH);
    for signature in signatures {
        request = request.header(SIGNATURE_HEADER, http::HeaderValue::from_bytes(signature).expect("a header value"));
    }
    request.body(FullBody::new(body.into())).expect("a valid request")
}

/// A POST of `body` with a well-formed signature (all zeros) that matches nothing.
pub(crate) fn zero_signed<B>(body: B) -> Request<B> {
    Request::post(PATH).header(SIGNATURE_HEADER, "0".repeat(64)).body(body).expect("a valid request")
}

/// A lead id unique to `n`, and a signed `lead.created` body carrying it.
pub(crate) fn numbered_event(n: usize) -> (String, Vec<u8>) {
    let lead = format!("cld_{n:06}");
    let body = format!(r#"{{"event":"lead.created","timestamp":"2025-01-14T08:00:00Z","data":{{"leadId":"{lead}"}}}}"#);
    (lead, body.into_bytes())
}

/// A body of `chunks` chunks of `chunk_size` bytes, made as they are read, with
/// no length announced (sent chunked), counting the bytes read from it.
pub(crate) struct Stream {
    chunks: Box<dyn Iterator<Item = Bytes> + Send + Sync>,
    pulled: Arc<AtomicUsize>,
    fail_after: Option<usize>,
}

impl Stream {
    /// `chunks` chunks of `chunk_size` spaces.
    pub(crate) fn new(chunk_size: usize, chunks: usize) -> (Self, Arc<AtomicUsize>) {
        let chunk = Bytes::from(vec![b' '; chunk_size]);
        Self::from_chunks(std::iter::repeat_n(chunk, chunks))
    }

    /// `bytes` in chunks of `chunk_size`.
    pub(crate) fn of(bytes: Vec<u8>, chunk_size: usize) -> (Self, Arc<AtomicUsize>) {
        let chunks: Vec<Bytes> = bytes.chunks(chunk_size).map(Bytes::copy_from_slice).collect();
        Self::from_chunks(chunks.into_iter())
    }

    /// Spaces in chunks, but reading fails after `chunks` chunks, as a dropped connection does.
    pub(crate) fn failing_after(chunk_size: usize, chunks: usize) -> Self {
        Self { fail_after: Some(chunks), ..Self::new(chunk_size, usize::MAX).0 }
    }

    fn from_chunks(chunks: impl Iterator<Item = Bytes> + Send + Sync + 'static) -> (Self, Arc<AtomicUsize>) {
        let pulled = Arc::new(AtomicUsize::new(0));
        (Self { chunks: Box::new(chunks), pulled: pulled.clone(), fail_after: None }, pulled)
    }
}

impl Body for Stream {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.fail_after == Some(0) {
            return Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer went away"))));
        }
        let Some(chunk) = self.chunks.next() else { return Poll::Ready(None) };
        if let Some(n) = self.fail_after.as_mut() {
            *n -= 1;
        }
        self.pulled.fetch_add(chunk.len(), Ordering::SeqCst);
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }
}

/// A body that never yields anything, for "must not be read" checks.
#[derive(Debug)]
pub(crate) struct Unread;

impl Body for Unread {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        panic!("the body was read although its Content-Length is over the limit")
    }
}
