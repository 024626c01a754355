//! How a handler says it failed, and whether FoxReach should try again.

use std::error::Error as StdError;
use std::fmt;

/// Any error a handler or a store reports.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// A handler's failure, marked retryable or permanent.
///
/// - **Retryable** (the default, and what `?` gives): a database down, a
///   timeout. The receiver answers `500`, so FoxReach delivers again after 1,
///   5 and 30 minutes, and the duplicate mark is removed so the retry runs.
/// - **Permanent**: the same payload can never succeed (it names a lead the
///   application refuses, say). The receiver answers `200` and logs the error,
///   since retrying would only count failures against the webhook's health.
///
/// When unsure, retry: a retryable error loses nothing, a permanent one drops
/// the event.
///
/// It is not itself a `std::error::Error` (so that every error can convert
/// into it with `?`); where a `Box<dyn Error + Send + Sync>` is wanted, as
/// when calling a handler directly in a test, use
/// [`into_source`](Self::into_source).
///
/// # Example
///
/// ```
/// use foxreach_webhooks::delivery::HandlerError;
///
/// fn store(row: &str) -> Result<(), std::io::Error> { Ok(()) }
///
/// fn handle(lead_id: &str) -> Result<(), HandlerError> {
///     if lead_id.is_empty() {
///         return Err(HandlerError::permanent("a lead without an id"));
///     }
///     store(lead_id)?; // an I/O error is retryable
///     Ok(())
/// }
/// assert!(!handle("").unwrap_err().is_retryable());
/// ```
pub struct HandlerError {
    retryable: bool,
    source: BoxError,
}

impl HandlerError {
    /// A failure that a later delivery of the same event may not hit.
    pub fn retryable(error: impl Into<BoxError>) -> Self {
        Self { retryable: true, source: error.into() }
    }

    /// A failure that every delivery of the same event would hit.
    pub fn permanent(error: impl Into<BoxError>) -> Self {
        Self { retryable: false, source: error.into() }
    }

    /// Whether FoxReach should deliver the event again.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The underlying error.
    #[must_use]
    pub fn source(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.source
    }

    /// The underlying error, owned.
    #[must_use]
    pub fn into_source(self) -> BoxError {
        self.source
    }
}

/// Any error converts into a retryable `HandlerError`, so `?` works in
/// handlers and errs on the side of losing nothing. (`HandlerError` is not
/// itself a `std::error::Error`, as with `anyhow::Error`, so that this
/// conversion can exist.)
impl<E: Into<BoxError>> From<E> for HandlerError {
    fn from(error: E) -> Self {
        Self::retryable(error)
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.retryable { "retryable" } else { "permanent" };
        write!(f, "{kind} handler failure: {}", self.source)
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerError").field("retryable", &self.retryable).field("source", &self.source).finish()
    }
}
