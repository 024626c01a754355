//! A verifier whose secrets come from files, one secret a file, such as
//! `foxreach-webhooks webhooks create --secret-file` writes them: no secret
//! copied by hand into an environment variable, and during a rotation the
//! old file and the new one, old first.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::env::write_trimmed;
use crate::Verifier;

/// A [`Verifier`] built by [`Verifier::from_secret_files`], with what was
/// corrected on the way, for the application to log.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FromFiles {
    /// The verifier for the files' secrets, in the order the files were
    /// given: the first file's secret keys the deliveries.
    pub verifier: Verifier,
    /// The files whose secret had whitespace around it, which was removed.
    pub trimmed: Vec<TrimmedFile>,
}

/// A secret file held whitespace around the secret (a trailing newline
/// from `echo` or an editor, usually), which
/// [`Verifier::from_secret_files`] removed. Its `Display` is a warning to
/// log, naming the file; it never shows the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrimmedFile {
    path: PathBuf,
    removed: usize,
}

impl TrimmedFile {
    /// The file the whitespace was in.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many bytes of whitespace were removed.
    #[must_use]
    pub fn removed(&self) -> usize {
        self.removed
    }
}

impl fmt::Display for TrimmedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_trimmed(f, format_args!("the secret file {}", self.path.display()), self.removed)
    }
}

/// Why [`Verifier::from_secret_files`] could not read a secret file. Each
/// message names the file, never what it holds.
#[derive(Debug)]
#[non_exhaustive]
pub enum SecretFileError {
    /// No file was given at all.
    NoFiles,
    /// There is no file at `path`.
    Missing {
        /// The file's path, as given.
        path: PathBuf,
    },
    /// The file could not be read (permissions, a folder…).
    Unreadable {
        /// The file's path, as given.
        path: PathBuf,
        /// The error reading it.
        source: io::Error,
    },
    /// The file is not UTF-8 text; FoxReach's secrets are.
    NotUnicode {
        /// The file's path, as given.
        path: PathBuf,
    },
    /// The file holds nothing, or nothing but whitespace.
    Empty {
        /// The file's path, as given.
        path: PathBuf,
    },
}

impl SecretFileError {
    /// The file the error is about; `None` for [`NoFiles`](Self::NoFiles).
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::NoFiles => None,
            Self::Missing { path }
            | Self::Unreadable { path, .. }
            | Self::NotUnicode { path }
            | Self::Empty { path } => Some(path),
        }
    }
}

impl fmt::Display for SecretFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KEEP: &str = "the `secret` FoxReach returned when the webhook was created \
                            (`foxreach-webhooks webhooks create --secret-file PATH` writes it)";
        match self {
            Self::NoFiles => f.write_str("no secret file was given: a verifier needs at least one"),
            Self::Missing { path } => {
                write!(f, "the secret file {} does not exist: it should hold {KEEP}", path.display())
            }
            Self::Unreadable { path, source } => write!(f, "cannot read the secret file {}: {source}", path.display()),
            Self::NotUnicode { path } => {
                write!(f, "the secret file {} is not UTF-8 text, which FoxReach's secrets are", path.display())
            }
            Self::Empty { path } => write!(f, "the secret file {} is empty: it should hold {KEEP}", path.display()),
        }
    }
}

impl std::error::Error for SecretFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Unreadable { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<SecretFileError> for io::Error {
    /// The error as an [`io::Error`] of the matching kind (`NotFound`, the
    /// read's own, `InvalidData`, `InvalidInput`), its message kept.
    fn from(error: SecretFileError) -> Self {
        let kind = match &error {
            SecretFileError::NoFiles => io::ErrorKind::InvalidInput,
            SecretFileError::Missing { .. } => io::ErrorKind::NotFound,
            SecretFileError::Unreadable { source, .. } => source.kind(),
            SecretFileError::NotUnicode { .. } | SecretFileError::Empty { .. } => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, error)
    }
}

/// A secret file's content, checked to be UTF-8 text with a secret in it,
/// and wiped from memory on drop. Its `Debug` never shows the secret.
///
/// ```
/// use foxreach_webhooks::secret::SecretText;
///
/// let path = std::env::temp_dir().join(format!("secret-text-doctest-{}", std::process::id()));
/// std::fs::write(&path, "the-webhook-secret\n")?;
/// let text = SecretText::read(&path)?;
/// assert_eq!(text.secret(), "the-webhook-secret");
/// assert_eq!(format!("{text:?}"), "SecretText([redacted])");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SecretText {
    /// Wiped on drop, whatever `read` returns.
    bytes: Zeroizing<Vec<u8>>,
}

impl SecretText {
    /// Reads the secret in the file at `path`.
    ///
    /// # Errors
    ///
    /// [`SecretFileError::Missing`] if there is no file,
    /// [`SecretFileError::Unreadable`] with the read's own error,
    /// [`SecretFileError::NotUnicode`] unless it is UTF-8 text,
    /// [`SecretFileError::Empty`] if it holds nothing but whitespace.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, SecretFileError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => SecretFileError::Missing { path: path.to_path_buf() },
            _ => SecretFileError::Unreadable { path: path.to_path_buf(), source },
        })?;
        // Held here first, so that the bytes are wiped whatever is returned.
        let text = Self { bytes: Zeroizing::new(bytes) };
        match std::str::from_utf8(&text.bytes).map(str::trim) {
            Err(_) => Err(SecretFileError::NotUnicode { path: path.to_path_buf() }),
            Ok("") => Err(SecretFileError::Empty { path: path.to_path_buf() }),
            Ok(_) => Ok(text),
        }
    }

    /// The secret, without the whitespace around it.
    #[must_use]
    pub fn secret(&self) -> &str {
        // `read` checked that the bytes are UTF-8: never the empty default.
        std::str::from_utf8(&self.bytes).map(str::trim).unwrap_or_default()
    }

    /// How many bytes of whitespace were around the secret.
    fn removed(&self) -> usize {
        self.bytes.len() - self.secret().len()
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText([redacted])")
    }
}

impl Verifier {
    /// A verifier for the webhook secrets in the files at `paths`, one
    /// secret a file, in the order given: such files as
    /// `foxreach-webhooks webhooks create --secret-file` and `webhooks rotate
    /// --secret-file` write (mode 0600), so that no secret is copied by hand.
    ///
    /// During a rotation, give the old webhook's file first, then the new
    /// one's: deliveries are keyed by the MAC under the first secret
    /// (`delivery::DeliveryKey`, feature `delivery`),
    /// so with the old secret first the keys do not change when the new
    /// secret is added.
    ///
    /// As with [`from_env`](Self::from_env), the whitespace around each
    /// secret (Unicode's, as [`str::trim`] sees it) is removed, since
    /// FoxReach's secrets have none while a file written with `echo` or an
    /// editor usually ends with a newline; each removal is reported in
    /// [`FromFiles::trimmed`], for the application to log.
    ///
    /// # Errors
    ///
    /// [`SecretFileError::Missing`] if a file does not exist,
    /// [`SecretFileError::Unreadable`] if it cannot be read,
    /// [`SecretFileError::NotUnicode`] if it is not UTF-8 text,
    /// [`SecretFileError::Empty`] if it holds nothing but whitespace, each
    /// naming the file (never its content); [`SecretFileError::NoFiles`] if
    /// `paths` is empty.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use foxreach_webhooks::Verifier;
    ///
    /// // During a rotation: the old webhook's secret first.
    /// let built = Verifier::from_secret_files(["foxreach.secret", "foxreach-new.secret"])?;
    /// for trimmed in &built.trimmed {
    ///     eprintln!("warning: {trimmed}");
    /// }
    /// let verifier = built.verifier;
    /// # Ok::<(), foxreach_webhooks::secret::SecretFileError>(())
    /// ```
    pub fn from_secret_files<I>(paths: I) -> Result<FromFiles, SecretFileError>
    where
        I: IntoIterator,
        I::Item: AsRef<Path>,
    {
        let mut secrets = Vec::new();
        let mut trimmed = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let text = SecretText::read(path)?;
            if text.removed() > 0 {
                trimmed.push(TrimmedFile { path: path.to_path_buf(), removed: text.removed() });
            }
            secrets.push(text);
        }
        // No secret is empty (`read` refuses one), so the only error left
        // is that there were no files.
        let verifier =
            Verifier::from_secrets(secrets.iter().map(SecretText::secret)).map_err(|_| SecretFileError::NoFiles)?;
        Ok(FromFiles { verifier, trimmed })
    }
}

#[cfg(test)]
use foxreach_test_support::folder;

#[cfg(test)]
mod tests {
    use super::folder::Folder;
    use super::*;
    use crate::sign;

    const OLD: &str = "the-old-webhook-secret";
    const NEW: &str = "the-new-webhook-secret";

    #[test]
    fn reads_each_file_in_order_and_reports_the_whitespace_removed() {
        let folder = Folder::new("secret-files-order");
        let (old, new) = (folder.file("old.secret"), folder.file("new.secret"));
        std::fs::write(&old, format!("{OLD}\r\n")).expect("written");
        std::fs::write(&new, NEW).expect("written");
        let built = Verifier::from_secret_files([&old, &new]).expect("two secrets");
        let body = br#"{"event":"email.sent"}"#;
        for secret in [OLD, NEW] {
            assert!(built.verifier.verify(body, sign(secret, body)).is_ok(), "signed with either");
        }
        assert!(built.verifier.verify(body, sign("another", body)).is_err());
        assert_eq!(built.verifier.sign(body), sign(OLD, body), "the first file's secret comes first");
        assert_eq!(built.trimmed, [TrimmedFile { path: old.clone().into(), removed: 2 }]);
        assert_eq!((built.trimmed[0].path(), built.trimmed[0].removed()), (Path::new(&old), 2));
        let warning = built.trimmed[0].to_string();
        assert!(warning.starts_with(&format!("the secret file {old} had 2 byte(s) of whitespace")), "{warning}");
        assert!(!warning.contains(OLD), "never the secret: {warning}");
        assert_eq!(format!("{:?}", built.verifier), "Verifier { secrets: [redacted; 2] }");
    }

    #[test]
    fn a_missing_empty_or_unreadable_file_is_named_and_its_content_never_shown() {
        let folder = Folder::new("secret-files-refused");
        let good = folder.file("good.secret");
        std::fs::write(&good, OLD).expect("written");
        let blank = folder.file("blank.secret");
        std::fs::write(&blank, " \r\n\t\n").expect("written");
        let binary = folder.file("binary.secret");
        std::fs::write(&binary, [b'o', b'l', b'd', 0xff]).expect("written");
        let missing = folder.file("missing.secret");
        let a_folder = folder.0.to_str().expect("a UTF-8 temp path").to_owned();

        let refused = |path: &str| Verifier::from_secret_files([good.as_str(), path]).expect_err("refused");
        for (path, starts) in [
            (&missing, "the secret file {} does not exist"),
            (&blank, "the secret file {} is empty"),
            (&binary, "the secret file {} is not UTF-8 text"),
            (&a_folder, "cannot read the secret file {}: "),
        ] {
            let error = refused(path);
            let message = error.to_string();
            assert!(message.starts_with(&starts.replace("{}", path)), "{message}");
            assert!(!message.contains(OLD) && !format!("{error:?}").contains(OLD), "{error:?}");
            assert_eq!(error.path(), Some(Path::new(path)));
            // Only a failed read has an I/O error beneath it, for `?` chains to show.
            let source = std::error::Error::source(&error);
            assert_eq!(source.is_some(), path == &a_folder, "{error:?}");
        }
        assert!(matches!(refused(&missing), SecretFileError::Missing { .. }));
        assert!(matches!(refused(&blank), SecretFileError::Empty { .. }));
        assert_eq!(io::Error::from(refused(&binary)).kind(), io::ErrorKind::InvalidData);
        assert_eq!(io::Error::from(refused(&missing)).kind(), io::ErrorKind::NotFound);

        let text = SecretText::read(&good).expect("a secret");
        assert_eq!((text.secret(), format!("{text:?}")), (OLD, "SecretText([redacted])".to_owned()));
        // A compile-time check: the text's bytes are of a type that wipes itself on drop.
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        wiped_on_drop(&text.bytes);

        let none = Verifier::from_secret_files(Vec::<PathBuf>::new()).expect_err("no files");
        assert!(matches!(none, SecretFileError::NoFiles) && none.path().is_none());
    }
}
