//! The verified body and the size limit.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;

/// The default cap on a webhook body: 1 MiB, far above any FoxReach event
/// (a 60 KB reply preview is the largest in the contract's vectors).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The raw bytes of a request body whose signature verified.
///
/// The tower layer puts one in the request's extensions; with feature `axum`
/// it is also an extractor, for applications that parse the body into types
/// of their own. Cloning it shares the bytes. `Debug` shows only the length:
/// the body is FoxReach's data about your leads.
///
/// # Example
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use foxreach_webhooks::http::VerifiedBody;
///
/// async fn handler(body: VerifiedBody) -> &'static str {
///     let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
///     "ok"
/// }
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedBody {
    bytes: Bytes,
    /// Its MAC under the verifier's first secret, which identifies the
    /// delivery whichever secret signed it, computed while verifying.
    mac: [u8; 32],
}

impl VerifiedBody {
    #[cfg(feature = "tower")]
    pub(super) fn new(bytes: Bytes, mac: [u8; 32]) -> Self {
        Self { bytes, mac }
    }

    /// The delivery's identity: the body's MAC under the first secret.
    #[cfg(all(feature = "delivery", feature = "tower"))]
    pub(crate) fn key(&self) -> crate::delivery::DeliveryKey {
        crate::delivery::DeliveryKey::new(self.mac)
    }

    /// The body bytes.
    #[must_use]
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The body bytes, without copying.
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }
}

impl Deref for VerifiedBody {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsRef<[u8]> for VerifiedBody {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for VerifiedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedBody").field("len", &self.bytes.len()).finish_non_exhaustive()
    }
}
