//! The API key, kept out of every output.

use std::fmt;

use zeroize::Zeroizing;

/// A FoxReach API key (`otr_…`), sent in the `X-API-Key` header.
///
/// Its `Debug` is `ApiKey([redacted])`, it has no `Display`, and its bytes
/// are wiped from memory when it is dropped. The client marks the header
/// sensitive, and replaces the key with `[redacted]` in any message of
/// FoxReach's that it quotes.
///
/// ```
/// use foxreach_api::ApiKey;
///
/// let key = ApiKey::new("otr_example");
/// assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
/// ```
#[derive(Clone)]
pub struct ApiKey(Zeroizing<String>);

impl ApiKey {
    /// A key from its text. Whitespace around it (a newline from a file or
    /// `echo`) is removed: FoxReach's keys have none.
    pub fn new(key: impl Into<String>) -> Self {
        let key = Zeroizing::new(key.into());
        match key.trim() {
            trimmed if trimmed.len() == key.len() => Self(key),
            trimmed => Self(Zeroizing::new(trimmed.to_owned())),
        }
    }

    /// The key's text.
    pub(super) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}
