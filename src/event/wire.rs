//! Strings read from the wire without copying them where serde allows.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// A JSON string (an object key or an enum value), borrowed from the input
/// where it can be, so that known names cost no allocation (serde's own
/// `Cow<str>` always allocates).
pub(crate) struct WireStr<'de>(pub(crate) Cow<'de, str>);

impl<'de> de::Deserialize<'de> for WireStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WireStrVisitor;

        impl<'de> Visitor<'de> for WireStrVisitor {
            type Value = WireStr<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<WireStr<'de>, E> {
                Ok(WireStr(Cow::Borrowed(key)))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<WireStr<'de>, E> {
                Ok(WireStr(Cow::Owned(key.to_owned())))
            }

            fn visit_string<E: de::Error>(self, key: String) -> Result<WireStr<'de>, E> {
                Ok(WireStr(Cow::Owned(key)))
            }
        }

        deserializer.deserialize_str(WireStrVisitor)
    }
}
