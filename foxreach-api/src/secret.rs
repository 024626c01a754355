//! The webhook secret FoxReach shows once, and the file it is kept in.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

use foxreach_webhooks::secret::SecretText;
use foxreach_webhooks::{SecretError, Verifier};

/// A webhook's signing secret, as `POST /webhooks` returns it (FoxReach
/// shows it in that answer only: a 64-character string).
///
/// It cannot be printed by accident: it has no `Display` and no
/// `Serialize`, and its `Debug` is `WebhookSecret([redacted])`. Its bytes
/// are wiped from memory when it is dropped. Use it through
/// [`verifier`](Self::verifier), [`write_new_file`](Self::write_new_file),
/// or `AsRef<[u8]>` with [`Verifier::from_secrets`] during a rotation; and
/// [`expose`](Self::expose) when it really must be shown.
///
/// ```
/// use foxreach_api::WebhookSecret;
/// use foxreach_webhooks::Verifier;
///
/// let old = WebhookSecret::new("the-old-secret");
/// let new = WebhookSecret::new("the-new-secret");
/// assert_eq!(format!("{new:?}"), "WebhookSecret([redacted])");
/// // During a rotation, accept both, the old one first.
/// let verifier = Verifier::from_secrets([&old, &new])?;
/// assert!(verifier.verify(b"{}", foxreach_webhooks::sign("the-old-secret", b"{}")).is_ok());
/// # Ok::<(), foxreach_webhooks::SecretError>(())
/// ```
#[derive(Clone)]
pub struct WebhookSecret(Zeroizing<String>);

impl WebhookSecret {
    /// A secret from its text, exactly as FoxReach gave it.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Zeroizing::new(secret.into()))
    }

    /// Reads a secret from a file such as [`write_new_file`](Self::write_new_file)
    /// writes, without the whitespace around it (a newline added by an
    /// editor; FoxReach's secrets have none).
    ///
    /// # Errors
    ///
    /// A [`SecretFileError`](foxreach_webhooks::secret::SecretFileError) as an
    /// [`io::Error`]: [`io::ErrorKind::NotFound`] if there is no file, the
    /// read's own error, [`io::ErrorKind::InvalidData`] if it is not UTF-8
    /// text or holds nothing but whitespace. The message names the path,
    /// never the content.
    pub fn read_file(path: impl AsRef<Path>) -> io::Result<Self> {
        Ok(Self::new(SecretText::read(path.as_ref())?.secret()))
    }

    /// The secret's text, for the rare place that must show it (a
    /// `--show-secret` flag). Everything else takes the secret itself.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A [`Verifier`] for this secret alone. During a rotation, give both
    /// secrets to [`Verifier::from_secrets`] instead.
    ///
    /// # Errors
    ///
    /// [`SecretError::Empty`] if the secret is empty.
    pub fn verifier(&self) -> Result<Verifier, SecretError> {
        Verifier::new(self.0.as_bytes())
    }

    /// Writes the secret to a new file at `path`, readable and writable by
    /// its owner only (mode 0600 on Unix), without a trailing newline. An
    /// existing file is never overwritten. The same as
    /// [`SecretFile::create_new`] then [`SecretFile::write`].
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::AlreadyExists`] if there is a file at `path`, or the
    /// error of creating or writing it (a file left half-written is removed).
    pub fn write_new_file(&self, path: impl AsRef<Path>) -> io::Result<()> {
        SecretFile::create_new(path)?.write(self)
    }
}

impl AsRef<[u8]> for WebhookSecret {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

impl<'de> Deserialize<'de> for WebhookSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

/// A new, empty file for a secret, made before the secret exists: create
/// it first, then ask FoxReach for the webhook, so that a path that cannot
/// be written fails before the webhook exists rather than after, when its
/// secret could no longer be kept.
///
/// The file is created with mode 0600 on Unix (its owner only), and never
/// over an existing one. Dropped without [`write`](Self::write), it is
/// removed again.
#[derive(Debug)]
pub struct SecretFile {
    /// `None` once written.
    file: Option<File>,
    path: PathBuf,
}

impl SecretFile {
    /// Creates the empty file at `path`.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::AlreadyExists`] if there is a file (or anything)
    /// at `path`; any other error of creating it.
    pub fn create_new(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path)?;
        Ok(Self { file: Some(file), path })
    }

    /// Where the file is.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `secret` (without a trailing newline) and syncs it to disk.
    ///
    /// # Errors
    ///
    /// The error of writing or syncing; the file is removed then.
    pub fn write(mut self, secret: &WebhookSecret) -> io::Result<()> {
        let Some(mut file) = self.file.take() else { return Ok(()) };
        match file.write_all(secret.as_ref()).and_then(|()| file.sync_all()) {
            Ok(()) => Ok(()),
            Err(error) => {
                drop(file);
                let _ = std::fs::remove_file(&self.path);
                Err(error)
            }
        }
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        // Never written: the webhook was not created, nothing to keep.
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = WebhookSecret::new("s3cr3t-value");
        assert_eq!(format!("{secret:?}"), "WebhookSecret([redacted])");
        assert_eq!(format!("{:#?}", Some(secret)), "Some(\n    WebhookSecret([redacted]),\n)");
    }

    #[test]
    fn deserializes_from_a_json_string() {
        let secret: WebhookSecret = serde_json::from_str(r#""abc123""#).expect("a string");
        assert_eq!(secret.expose(), "abc123");
        assert!(secret.verifier().expect("not empty").verify(b"{}", foxreach_webhooks::sign("abc123", b"{}")).is_ok());
        assert_eq!(WebhookSecret::new("").verifier().unwrap_err(), SecretError::Empty);
    }
}
