//! Where webhook secrets come from: an environment variable or files.
//!
//! The verification core ([`signature`](crate::signature)) takes secrets as
//! bytes and does no I/O; this module reads them, correcting the usual
//! mistake on the way (whitespace around the secret, such as the newline
//! `echo` or an editor adds; FoxReach's secrets have none) and reporting
//! what it corrected, for the application to log.
//!
//! - [`Verifier::from_env`](crate::Verifier::from_env): one secret from a
//!   variable such as `FOXREACH_WEBHOOK_SECRET`.
//! - [`Verifier::from_secret_files`](crate::Verifier::from_secret_files):
//!   one secret a file, as `foxreach-webhooks webhooks create --secret-file`
//!   writes them; during a rotation the old file first.
//! - [`SecretText::read`]: one file's secret as text, for a tool that needs
//!   the text itself.

mod env;
mod file;

pub use env::{FromEnv, Trimmed};
pub use file::{FromFiles, SecretFileError, SecretText, TrimmedFile};
