//! Why a signature or a secret was refused.
//!
//! Messages tell a person what to check. They never contain the secret, the
//! expected MAC or the header's value.

use std::fmt;

/// The number of hex digits in a FoxReach signature: a 32-byte HMAC-SHA256.
const MAC_HEX_LEN: usize = 64;

/// Why a delivery's signature was rejected.
///
/// Every variant means "do not trust this body". In HTTP terms the first three
/// are answered with `401 Unauthorized`.
///
/// # Example
///
/// ```
/// use foxreach_webhooks::{verify, VerifyError};
///
/// let err = verify("my-secret", b"{}", "sha256=abc").unwrap_err();
/// assert!(matches!(err, VerifyError::Malformed { length: 10, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The request carried no `X-Webhook-Signature` header, or an empty one.
    Missing,
    /// The header is not exactly 64 hex digits, so it cannot be a FoxReach
    /// signature (a `sha256=` prefix or base64 encoding are the usual causes).
    #[non_exhaustive]
    Malformed {
        /// The length of the header value in bytes (64 is expected).
        length: usize,
        /// What the value looks like, to point at the likely mistake.
        shape: SignatureShape,
    },
    /// The signature is well formed but was not made with this secret over
    /// these exact bytes.
    Mismatch,
    /// The secret to verify with is empty. An empty key would let anyone
    /// forge deliveries, so nothing verifies against it; this is a
    /// configuration error, not a bad request.
    EmptySecret,
}

/// What a malformed signature header looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureShape {
    /// It has a `name=` prefix such as `sha256=`; FoxReach sends bare hex.
    Prefixed,
    /// It looks like base64; FoxReach sends hex.
    Base64,
    /// It has 64 characters, but not all are hex digits.
    NotHex,
    /// It is hex (or close to it), but not 64 digits long.
    WrongLength,
    /// The header was sent more than once (`length` counts all the values);
    /// FoxReach sends one.
    Repeated,
}

impl SignatureShape {
    /// Classifies a value already known not to be 64 hex digits. Only reached
    /// on the error path, so it may branch freely: the value is public.
    pub(crate) fn of(value: &[u8]) -> Self {
        let is_hex = |b: &u8| b.is_ascii_hexdigit();
        let is_base64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
        let prefix_end = value.iter().position(|&b| b == b'=');
        if let Some(eq) = prefix_end
            && eq > 0
            && value[..eq].iter().all(u8::is_ascii_alphanumeric)
            && eq + 1 < value.len()
            && value[eq + 1..].iter().all(is_hex)
        {
            return Self::Prefixed;
        }
        if value.len() == MAC_HEX_LEN {
            Self::NotHex
        } else if value.len() == 44 && value.iter().all(is_base64) && !value.iter().all(is_hex) {
            // 32 bytes in padded base64 are exactly 44 characters.
            Self::Base64
        } else {
            Self::WrongLength
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str(
                "missing X-Webhook-Signature header: FoxReach signs every delivery, \
                 so this request is not from FoxReach or a proxy removed the header",
            ),
            Self::Malformed { length, shape } => {
                write!(
                    f,
                    "malformed X-Webhook-Signature header: expected {MAC_HEX_LEN} hex digits, got {length} bytes"
                )?;
                match shape {
                    SignatureShape::Prefixed => {
                        f.write_str(" with a `name=` prefix; FoxReach sends the bare hex HMAC-SHA256, with no prefix")
                    }
                    SignatureShape::Base64 => {
                        f.write_str(" that look like base64; FoxReach sends the HMAC-SHA256 as hex")
                    }
                    SignatureShape::NotHex => f.write_str(" that are not all hex digits"),
                    SignatureShape::WrongLength => Ok(()),
                    SignatureShape::Repeated => f.write_str(" over several headers; FoxReach sends exactly one"),
                }
            }
            Self::Mismatch => f.write_str(
                "X-Webhook-Signature does not match the body: verify the raw request body bytes \
                 exactly as received (not re-serialized JSON) with the webhook secret string \
                 exactly as FoxReach returned it when the webhook was created (its UTF-8 bytes, \
                 not hex-decoded)",
            ),
            Self::EmptySecret => f.write_str(
                "the webhook secret is empty: set it to the `secret` FoxReach returned when the \
                 webhook was created (is its environment variable set?)",
            ),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Why a [`Verifier`](crate::Verifier) could not be built from its secrets.
///
/// # Example
///
/// ```
/// use foxreach_webhooks::{SecretError, Verifier};
///
/// let secret = std::env::var("A_VARIABLE_NOBODY_SET").unwrap_or_default();
/// assert_eq!(Verifier::new(secret).unwrap_err(), SecretError::Empty);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretError {
    /// A secret is empty. An empty key would accept forgeries; usually an
    /// environment variable is unset.
    Empty,
    /// No secret was given at all.
    NoSecrets,
    /// The environment variable that should hold the secret is not set
    /// ([`Verifier::from_env`](crate::Verifier::from_env)).
    EnvUnset {
        /// The variable's name.
        name: &'static str,
    },
    /// The environment variable that should hold the secret is set to
    /// nothing but whitespace.
    EnvEmpty {
        /// The variable's name.
        name: &'static str,
    },
    /// The environment variable that should hold the secret is not UTF-8;
    /// FoxReach's secrets are.
    EnvNotUnicode {
        /// The variable's name.
        name: &'static str,
    },
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str(
                "a webhook secret is empty: set it to the `secret` FoxReach returned when the \
                 webhook was created (is its environment variable set?)",
            ),
            Self::NoSecrets => f.write_str("no webhook secret was given: a verifier needs at least one"),
            Self::EnvUnset { name } => {
                write!(f, "{name} is not set: set it to the `secret` FoxReach returned when the webhook was created")
            }
            Self::EnvEmpty { name } => {
                write!(f, "{name} is empty: set it to the `secret` FoxReach returned when the webhook was created")
            }
            Self::EnvNotUnicode { name } => write!(f, "{name} is not valid UTF-8, which FoxReach's secrets are"),
        }
    }
}

impl std::error::Error for SecretError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_point_at_the_usual_mistakes() {
        let hex = "3092136086231f1a605e3dc6a07e21ceba78141f487068a3ed0bae77d1d678e6";
        assert_eq!(SignatureShape::of(format!("sha256={hex}").as_bytes()), SignatureShape::Prefixed);
        assert_eq!(SignatureShape::of(b"MJITYIYjHxpgXj3GoH4hzrp4FB9IcGij7Quud9HWeOY="), SignatureShape::Base64);
        assert_eq!(SignatureShape::of(&[b'z'; 64]), SignatureShape::NotHex);
        assert_eq!(SignatureShape::of(&hex.as_bytes()[..63]), SignatureShape::WrongLength);
    }

    #[test]
    fn the_edges_of_each_shape() {
        let hex = "3092136086231f1a605e3dc6a07e21ceba78141f487068a3ed0bae77d1d678e6";
        // A prefix needs a name before its `=`, and hex after it.
        assert_eq!(SignatureShape::of(format!("={hex}").as_bytes()), SignatureShape::WrongLength);
        assert_eq!(SignatureShape::of(b"sha256="), SignatureShape::WrongLength);
        // Base64 is 44 characters of its alphabet, not all of them hex.
        let base64 = "MJITYIYjHxpgXj3GoH4hzrp4FB9IcGij7Quud9HWeOY=";
        assert_eq!(SignatureShape::of(&hex.as_bytes()[..44]), SignatureShape::WrongLength);
        assert_eq!(SignatureShape::of(&base64.as_bytes()[..43]), SignatureShape::WrongLength);
        assert_eq!(SignatureShape::of(format!("{}!", &base64[..43]).as_bytes()), SignatureShape::WrongLength);
    }

    #[test]
    fn messages_never_contain_the_value() {
        let value = "sha256=3092136086231f1a605e3dc6a07e21ceba78141f487068a3ed0bae77d1d678e6";
        let err = VerifyError::Malformed { length: value.len(), shape: SignatureShape::of(value.as_bytes()) };
        let message = err.to_string();
        assert!(message.contains("71 bytes") && message.contains("no prefix"), "{message}");
        assert!(!message.contains("3092136"), "{message}");
    }
}
