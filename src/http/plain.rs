//! The short plain-text responses this crate answers with.

use ::http::{HeaderValue, Response, StatusCode, header};
#[cfg(feature = "delivery")]
use bytes::Bytes;
#[cfg(feature = "delivery")]
use http_body_util::Full;

/// A response with `status` and `text` as its `text/plain` body.
#[cfg(feature = "delivery")]
pub(crate) fn plain_text(status: StatusCode, text: impl Into<Bytes>) -> Response<Full<Bytes>> {
    text_response(status, Full::new(text.into()))
}

/// A response with `status` and `body`, which holds a sentence of text.
pub(crate) fn text_response<B>(status: StatusCode, body: B) -> Response<B> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}
