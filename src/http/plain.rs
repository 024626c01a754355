//! The short plain-text answers this crate gives.

use ::http::{HeaderValue, Response, StatusCode, header};
use bytes::Bytes;

use super::FullBody;

/// A response with `status` and `text` as its `text/plain` body.
pub(crate) fn plain_text(status: StatusCode, text: impl Into<Bytes>) -> Response<FullBody> {
    let mut response = Response::new(FullBody::new(text));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}
