//! The one body type this crate builds its requests and responses with.

use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;

/// A body held whole in memory and sent in one frame: the short plain-text
/// answers of a receiver, the verified bytes the tower layer passes on (as
/// `http::tower::RequestBody`), and the signed requests of
/// `http::test_util`.
///
/// Our own type, so that this crate's public API does not change with
/// `http-body-util`'s versions. axum, hyper and every tower service that takes
/// an [`http_body::Body`] accept it. Cloning shares the bytes. `Debug` shows
/// only the length: a body may be FoxReach's data about your leads.
///
/// # Example
///
/// ```
/// use foxreach_webhooks::http::FullBody;
/// use http_body::Body;
///
/// let body = FullBody::new("processed");
/// assert_eq!(body.size_hint().exact(), Some(9));
/// assert_eq!(format!("{body:?}"), "FullBody { len: 9 }");
/// ```
#[derive(Clone, Default)]
pub struct FullBody(Full<Bytes>);

impl FullBody {
    /// A body of `bytes`, without copying them when they are `Bytes` already.
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Self(Full::new(bytes.into()))
    }
}

impl Body for FullBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

impl fmt::Debug for FullBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The bytes not yet sent: all of them until the body is polled.
        f.debug_struct("FullBody").field("len", &self.0.size_hint().lower()).finish()
    }
}
