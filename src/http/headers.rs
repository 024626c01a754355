//! Verifying a request by its `http::HeaderMap`.

use ::http::{HeaderMap, HeaderName, HeaderValue};

use crate::signature::SignatureShape;
use crate::{SIGNATURE_HEADER, Verifier, VerifyError};

/// The header's name, made once: looking it up by `&str` parses the name on
/// every request.
const SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);

impl Verifier {
    /// Verifies `body` against the `X-Webhook-Signature` header in `headers`
    /// (feature `http`).
    ///
    /// Header names are matched case-insensitively, and the value is taken as
    /// raw bytes. A signature sent in more than one header is malformed: a
    /// proxy that duplicated it, or a request that hopes one copy is checked
    /// and the other believed.
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify`]; a missing header is [`VerifyError::Missing`].
    ///
    /// # Example
    ///
    /// ```
    /// use foxreach_webhooks::{Verifier, SIGNATURE_HEADER};
    ///
    /// let verifier = Verifier::new("secret")?;
    /// let body = br#"{"event":"lead.created","timestamp":"2025-01-14T08:00:00Z","data":{"leadId":"cld_1"}}"#;
    /// let request = http::Request::post("/webhooks/foxreach")
    ///     .header(SIGNATURE_HEADER, verifier.sign(body))
    ///     .body(body.to_vec())?;
    /// assert!(verifier.verify_headers(request.headers(), request.body()).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn verify_headers(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        self.verify(body, signature_value(headers)?.as_bytes())
    }

    /// As [`verify_headers`](Self::verify_headers), returning the MAC under
    /// the first secret, which identifies the delivery whichever secret signed.
    #[cfg(feature = "tower")]
    pub(crate) fn verify_headers_for_key(&self, headers: &HeaderMap, body: &[u8]) -> Result<[u8; 32], VerifyError> {
        self.delivery_mac(body, signature_value(headers)?.as_bytes())
    }
}

/// Refuses, before any secret is known, what verification would refuse
/// whatever the secret: a signature header missing, repeated, or not 64 hex
/// digits. A receiver of several webhooks checks it before it looks the
/// tenant's secret up, so that a request that cannot verify costs no lookup.
#[cfg(all(feature = "delivery", feature = "tower"))]
pub(crate) fn check_signature_shape(headers: &HeaderMap) -> Result<(), VerifyError> {
    crate::signature::check_shape(signature_value(headers)?.as_bytes())
}

/// The one `X-Webhook-Signature` value of `headers`.
fn signature_value(headers: &HeaderMap) -> Result<&HeaderValue, VerifyError> {
    let mut values = headers.get_all(SIGNATURE).iter();
    match (values.next(), values.next()) {
        (None, _) => Err(VerifyError::Missing),
        (Some(value), None) => Ok(value),
        (Some(_), Some(_)) => {
            let length = headers.get_all(SIGNATURE).iter().map(HeaderValue::len).sum();
            Err(VerifyError::Malformed { length, shape: SignatureShape::Repeated })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_header_of_any_case_is_read_and_two_are_malformed() {
        let verifier = Verifier::new("secret").expect("not empty");
        let body = b"{}";
        let signature = verifier.sign(body);
        let mut headers = HeaderMap::new();
        assert_eq!(verifier.verify_headers(&headers, body), Err(VerifyError::Missing));

        headers.insert("X-Webhook-Signature", HeaderValue::from_str(&signature).expect("ASCII"));
        assert_eq!(verifier.verify_headers(&headers, body), Ok(()));

        headers.append(SIGNATURE_HEADER, HeaderValue::from_str(&signature).expect("ASCII"));
        let err = verifier.verify_headers(&headers, body).unwrap_err();
        assert!(matches!(err, VerifyError::Malformed { length: 128, shape: SignatureShape::Repeated }), "{err:?}");
        assert!(err.to_string().contains("exactly one"), "{err}");
    }

    #[test]
    fn non_ascii_and_empty_values_are_refused_not_panicked_on() {
        let verifier = Verifier::new("secret").expect("not empty");
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, HeaderValue::from_bytes(&[0xff; 64]).expect("opaque bytes are allowed"));
        assert!(matches!(verifier.verify_headers(&headers, b"{}"), Err(VerifyError::Malformed { .. })));
        headers.insert(SIGNATURE_HEADER, HeaderValue::from_static(""));
        assert_eq!(verifier.verify_headers(&headers, b"{}"), Err(VerifyError::Missing));
    }
}
