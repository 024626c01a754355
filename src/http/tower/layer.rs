use tower_layer::Layer;

use super::{Config, VerifySignature};
use crate::Verifier;
use crate::http::DEFAULT_BODY_LIMIT;

/// Applies [`VerifySignature`] to a service: FoxReach signature verification,
/// with the body buffered up to a limit and the event parsed.
///
/// See the [module docs](super) for an example.
#[derive(Debug, Clone)]
pub struct VerifySignatureLayer {
    config: Config,
}

impl VerifySignatureLayer {
    /// A layer verifying with `verifier`, a body limit of
    /// [`DEFAULT_BODY_LIMIT`] (1 MiB), and event parsing on.
    #[must_use]
    pub fn new(verifier: Verifier) -> Self {
        Self { config: Config { verifier, body_limit: DEFAULT_BODY_LIMIT, parse_events: true } }
    }

    /// Refuses bodies over `limit` bytes with `413 Payload Too Large`: by
    /// `Content-Length` before reading, or as soon as a chunked body crosses it.
    #[must_use]
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.config.body_limit = limit;
        self
    }

    /// Whether to parse the verified body into an [`Event`](crate::Event)
    /// (on by default), with [`Event::from_slice_lenient`](crate::Event::from_slice_lenient)
    /// so that a payload that drifted from FoxReach's docs still gets
    /// through. When on, a body that is not JSON is refused with `400` and
    /// JSON without a string `event` with `422`; when off, the inner service
    /// gets only the verified bytes and parses them itself.
    #[must_use]
    pub fn parse_events(mut self, parse: bool) -> Self {
        self.config.parse_events = parse;
        self
    }
}

impl<S> Layer<S> for VerifySignatureLayer {
    type Service = VerifySignature<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifySignature::from_config(inner, self.config.clone())
    }
}
