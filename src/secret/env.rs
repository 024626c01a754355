//! A verifier whose secret comes from an environment variable, where a
//! stray newline is the usual mistake.

use std::env::{self, VarError};
use std::fmt;

use crate::{SecretError, Verifier};

/// A [`Verifier`] built by [`Verifier::from_env`], with what was corrected
/// on the way, for the application to log.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FromEnv {
    /// The verifier for the variable's secret.
    pub verifier: Verifier,
    /// Set when the value had whitespace around it, which was removed.
    pub trimmed: Option<Trimmed>,
}

/// The secret's environment variable had whitespace around it (a trailing
/// newline from `echo` or a file, usually), which
/// [`Verifier::from_env`] removed. Its `Display` is a warning to log; it
/// never shows the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trimmed {
    name: &'static str,
    removed: usize,
}

impl Trimmed {
    /// How many bytes of whitespace were removed.
    #[must_use]
    pub fn removed(&self) -> usize {
        self.removed
    }
}

impl fmt::Display for Trimmed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_trimmed(f, self.name, self.removed)
    }
}

/// The warning for a secret whose `source` (a variable, a file) had
/// `removed` bytes of whitespace around it.
pub(super) fn write_trimmed(f: &mut fmt::Formatter<'_>, source: impl fmt::Display, removed: usize) -> fmt::Result {
    write!(
        f,
        "{source} had {removed} byte(s) of whitespace around the secret (a trailing newline?); they were removed, \
         since FoxReach's secrets have none"
    )
}

impl Verifier {
    /// A verifier for the webhook secret in the environment variable `name`
    /// (such as `FOXREACH_WEBHOOK_SECRET`; a `&'static str`, so that
    /// [`SecretError`] can name it and stay `Copy`), with surrounding
    /// whitespace (Unicode's, as [`str::trim`] sees it) removed: FoxReach's secrets have none, while a value written with
    /// `echo` or read from a file usually ends with a newline, which would
    /// otherwise refuse every delivery as a mismatch. The removal is
    /// reported in [`FromEnv::trimmed`], for the application to log.
    ///
    /// [`Verifier::new`] stays byte-exact: a key may legitimately hold any
    /// byte (RFC 4231's test key is twenty `0x0b` bytes).
    ///
    /// # Errors
    ///
    /// [`SecretError::EnvUnset`] if the variable is not set,
    /// [`SecretError::EnvNotUnicode`] if its value is not UTF-8, and
    /// [`SecretError::EnvEmpty`] if it holds nothing but whitespace.
    ///
    /// # Example
    ///
    /// ```
    /// use foxreach_webhooks::{SecretError, Verifier};
    ///
    /// fn verifier() -> Result<Verifier, SecretError> {
    ///     let built = Verifier::from_env("FOXREACH_WEBHOOK_SECRET")?;
    ///     if let Some(trimmed) = built.trimmed {
    ///         eprintln!("warning: {trimmed}");
    ///     }
    ///     Ok(built.verifier)
    /// }
    ///
    /// let unset = Verifier::from_env("A_VARIABLE_NOBODY_SET").unwrap_err();
    /// assert_eq!(unset, SecretError::EnvUnset { name: "A_VARIABLE_NOBODY_SET" });
    /// ```
    pub fn from_env(name: &'static str) -> Result<FromEnv, SecretError> {
        let value = match env::var(name) {
            Ok(value) => value,
            Err(VarError::NotPresent) => return Err(SecretError::EnvUnset { name }),
            Err(VarError::NotUnicode(_)) => return Err(SecretError::EnvNotUnicode { name }),
        };
        let secret = value.trim();
        if secret.is_empty() {
            return Err(SecretError::EnvEmpty { name });
        }
        let removed = value.len() - secret.len();
        Ok(FromEnv { verifier: Verifier::new(secret)?, trimmed: (removed > 0).then_some(Trimmed { name, removed }) })
    }
}
