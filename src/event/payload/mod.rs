//! The typed `data` of each documented event type, one file per type,
//! named after the type's `Handler` method.
//!
//! Every payload keeps the fields FoxReach documents as typed fields and every
//! other field it sends in `extra`, so a field FoxReach adds later is neither
//! an error nor lost, and serializing a payload writes it back.
//!
//! The id fields that say what an event is about are required: without
//! them the strict parse refuses the event, and the lenient one makes it
//! untyped. Every other field is an `Option`: FoxReach shows them in its
//! examples but does not promise them, and a signed delivery is not refused
//! because one is missing, or has a value of another type (it is then
//! `None`, its raw value kept in `extra` and its name in
//! `degraded_fields()`).

/// A module per event type, named after its `Handler` method, with its
/// payload struct re-exported: generated from the event table, so that a
/// type's file is declared where its row is.
macro_rules! payload_modules {
    ( $( $(#[$meta:meta])* $variant:ident = $wire:literal => $method:ident, )* ) => {
        $(
            mod $method;
            pub use $method::$variant;
        )*
    };
}

super::table::event_types!(payload_modules);

mod campaign;
mod lead;

pub use campaign::CampaignStatus;
pub(crate) use campaign::campaign_payload;
pub use email_bounced::BounceType;
pub(crate) use lead::lead_payload;
pub use lead::{LeadSource, LeadStatus};
pub use reply_categorized::ReplyCategory;

/// Declares a payload struct with its documented fields in FoxReach's wire
/// names, a constructor taking the required ones, and serde impls that read
/// the fields in any order and keep unknown ones in `extra`.
///
/// Hand-written rather than `#[derive]`d because serde's `#[serde(flatten)]`,
/// the derive way to keep unknown fields, buffers the whole object before
/// reading it, which would make typed parsing slower than parsing into a
/// `serde_json::Value`.
///
/// Reading follows JSON as Python and JavaScript read it, since FoxReach's
/// bodies come from such code: a repeated key's last value wins. The
/// required ids are strings or integers (taken as their decimal text); any
/// other value fails the payload. An optional field of another type degrades
/// (see `lenient`): it becomes `None`, its raw value goes to `extra` under
/// its wire name and its name to the degraded list, so that serializing
/// writes the body's value back and a reparse gives an equal payload.
macro_rules! payload {
    (
        $(#[$meta:meta])*
        $wire_event:literal => $name:ident {
            $( $(#[$req_meta:meta])* $req:ident: String = $req_wire:literal, )*
        }
        optional {
            $( $(#[$opt_meta:meta])* $opt:ident: $opt_ty:ty = $opt_wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[$req_meta])*
                #[doc = concat!("\n\nWire name: `", $req_wire, "`. Required: a string, or an integer read as its decimal text.")]
                pub $req: String,
            )*
            $(
                $(#[$opt_meta])*
                #[doc = concat!(
                    "\n\nWire name: `", $opt_wire, "`. `None` when absent or `null`, or when of another ",
                    "type: then it is degraded (see `degraded_fields`) and its raw value is in `extra`."
                )]
                pub $opt: Option<$opt_ty>,
            )*
            /// Fields FoxReach sent that this version of the crate does not
            /// type, exactly as sent (serializing writes them back), and the
            /// raw values of degraded fields under their wire names.
            pub extra: serde_json::Map<String, serde_json::Value>,
            /// Wire names of the degraded fields, in declaration order.
            degraded: Vec<&'static str>,
        }

        impl $name {
            /// The wire names of the required ids, in declaration order.
            #[allow(dead_code)]
            pub(crate) const REQUIRED: &'static [&'static str] = &[$( $req_wire, )*];

            /// The wire names of the optional fields, in declaration order.
            const OPTIONAL: &'static [&'static str] = &[$( $opt_wire, )*];

            #[doc = concat!("A `", $wire_event, "` payload with its required fields; the optional ones start")]
            /// as `None` and `extra` empty. Useful for building events in tests.
            #[must_use]
            pub fn new($( $req: impl Into<String>, )*) -> Self {
                Self {
                    $( $req: $req.into(), )*
                    $( $opt: None, )*
                    extra: serde_json::Map::new(),
                    degraded: Vec::new(),
                }
            }

            /// The wire names (such as `"sequenceStep"`) of the documented
            /// optional fields whose value had another type than documented:
            /// each is `None`, its raw value kept in `extra` under that name.
            /// Empty when every field could be typed. An explicit `null` is not
            /// degraded.
            ///
            /// The dispatcher logs each as the path `data.<wire name>`, never
            /// the value (it is FoxReach's data about your leads).
            #[must_use]
            pub fn degraded_fields(&self) -> &[&'static str] {
                &self.degraded
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(None)?;
                $( map.serialize_entry($req_wire, &self.$req)?; )*
                $( if let Some(value) = &self.$opt { map.serialize_entry($opt_wire, value)?; } )*
                for (key, value) in &self.extra {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct PayloadVisitor;

                impl<'de> serde::de::Visitor<'de> for PayloadVisitor {
                    type Value = $name;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("the data object of a `", $wire_event, "` event"))
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        use serde::de::Error;
                        #[allow(unused_imports)] // when there is no optional field
                        use $crate::event::lenient::{Field, Id, LenientSeed};
                        $( let mut $req: Option<String> = None; )*
                        $( let mut $opt: Option<$opt_ty> = None; )*
                        let mut extra = serde_json::Map::new();
                        #[allow(unused_mut)] // when there is no optional field
                        let mut degraded: Vec<&'static str> = Vec::new();
                        while let Some($crate::event::wire::WireStr(key)) = map.next_key()? {
                            match &*key {
                                $( $req_wire => $req = Some(map.next_value::<Id>()?.0), )*
                                $( $opt_wire => {
                                    // A repeated key: the earlier value, degraded or not, is gone.
                                    if let Some(at) = degraded.iter().position(|name| *name == $opt_wire) {
                                        degraded.swap_remove(at);
                                        extra.remove($opt_wire);
                                    }
                                    $opt = match map.next_value_seed(LenientSeed::<$opt_ty>::new())? {
                                        Field::Typed(value) => Some(value),
                                        Field::Null => None,
                                        Field::Mismatch(raw) => {
                                            extra.insert($opt_wire.to_owned(), raw);
                                            degraded.push($opt_wire);
                                            None
                                        }
                                    };
                                } )*
                                _ => {
                                    let value = map.next_value()?;
                                    extra.insert(key.into_owned(), value);
                                }
                            }
                        }
                        // In declaration order, so that a reparse of the serialized
                        // payload (its `extra` in map order) gives an equal list.
                        degraded.sort_unstable_by_key(|name| $name::OPTIONAL.iter().position(|wire| wire == name));
                        Ok($name {
                            $( $req: $req.ok_or_else(|| A::Error::missing_field($req_wire))?, )*
                            $( $opt, )*
                            extra,
                            degraded,
                        })
                    }
                }

                deserializer.deserialize_map(PayloadVisitor)
            }
        }
    };
}

pub(crate) use payload;

/// Declares a string enum for a FoxReach value set that may grow, with a
/// catch-all variant that keeps a value this crate does not know yet.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )*
            /// A value this version of the crate does not know, as FoxReach sent it.
            Other(String),
        }

        impl $name {
            /// The value as FoxReach writes it.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        /// A value of another type than a string degrades the field.
        impl $crate::event::lenient::Lenient for $name {
            fn from_text(text: std::borrow::Cow<'_, str>) -> Result<Self, std::borrow::Cow<'_, str>> {
                Ok(Self::from(&*text))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let $crate::event::wire::WireStr(value) = serde::Deserialize::deserialize(deserializer)?;
                Ok(Self::from(&*value))
            }
        }
    };
}

pub(crate) use open_enum;
