//! Reading a payload field without letting its value fail the event.
//!
//! Every optional field is read through [`Lenient`]: a value of the expected
//! type (or one FoxReach plausibly writes for it, such as `"2"` for an
//! integer) becomes the typed value, `null` becomes `None`, and anything else
//! comes back as the raw `serde_json::Value`, which the payload keeps in its
//! `extra` map and records as degraded. The typed value is read straight from
//! the input; only a mismatch builds a `serde_json::Value`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::Timestamp;

/// What an optional field's value turned out to be.
pub(crate) enum Field<T> {
    /// A value of the field's type.
    Typed(T),
    /// An explicit `null`: the field is `None`, and not degraded.
    Null,
    /// A value of another type, as sent.
    Mismatch(Value),
}

/// A type that an optional payload field can hold, read leniently. Each
/// method gets one kind of JSON value; the defaults refuse it, so a type
/// states only what it accepts.
pub(crate) trait Lenient: Sized {
    /// A string; refused strings are kept as they came.
    fn from_text(text: Cow<'_, str>) -> Result<Self, Cow<'_, str>> {
        Err(text)
    }

    /// A non-negative integer.
    fn from_u64(_: u64) -> Option<Self> {
        None
    }

    /// A negative integer.
    fn from_i64(_: i64) -> Option<Self> {
        None
    }

    /// A number with a fraction or an exponent.
    fn from_f64(_: f64) -> Option<Self> {
        None
    }

    /// An array, its elements collected as they came.
    fn from_seq(seq: Vec<Value>) -> Result<Self, Value> {
        Err(Value::Array(seq))
    }

    /// Whether an object is wanted: only then is it read as a typed map.
    const OBJECT: bool = false;

    /// An object, read into a map when [`OBJECT`](Self::OBJECT) says so.
    fn from_map(map: Map<String, Value>) -> Result<Self, Value> {
        Err(Value::Object(map))
    }
}

/// Reads one optional field's value as a [`Field`], whatever JSON it is.
pub(crate) struct LenientSeed<T>(PhantomData<T>);

impl<T> LenientSeed<T> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<'de, T: Lenient> DeserializeSeed<'de> for LenientSeed<T> {
    type Value = Field<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Field<T>, D::Error> {
        deserializer.deserialize_any(LenientVisitor(PhantomData))
    }
}

struct LenientVisitor<T>(PhantomData<T>);

impl<T> LenientVisitor<T> {
    fn number(typed: Option<T>, raw: impl Into<Value>) -> Field<T> {
        typed.map_or_else(|| Field::Mismatch(raw.into()), Field::Typed)
    }

    fn text(text: Cow<'_, str>) -> Field<T>
    where
        T: Lenient,
    {
        T::from_text(text).map_or_else(|text| Field::Mismatch(Value::String(text.into_owned())), Field::Typed)
    }
}

impl<'de, T: Lenient> Visitor<'de> for LenientVisitor<T> {
    type Value = Field<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Field<T>, E> {
        Ok(Field::Mismatch(Value::Bool(value)))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Field<T>, E> {
        Ok(Self::number(T::from_i64(value), value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Field<T>, E> {
        Ok(Self::number(T::from_u64(value), value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Field<T>, E> {
        Ok(Self::number(T::from_f64(value), value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Field<T>, E> {
        Ok(Self::text(Cow::Borrowed(value)))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Field<T>, E> {
        Ok(Self::text(Cow::Owned(value)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Field<T>, E> {
        Ok(Field::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Field<T>, E> {
        Ok(Field::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Field<T>, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Field<T>, A::Error> {
        let seq = Vec::<Value>::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(T::from_seq(seq).map_or_else(Field::Mismatch, Field::Typed))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<T>, A::Error> {
        let map = Map::deserialize(MapAccessDeserializer::new(map))?;
        Ok(if T::OBJECT {
            T::from_map(map).map_or_else(Field::Mismatch, Field::Typed)
        } else {
            Field::Mismatch(map.into())
        })
    }
}

impl Lenient for String {
    fn from_text(text: Cow<'_, str>) -> Result<Self, Cow<'_, str>> {
        Ok(text.into_owned())
    }
}

/// Integers: FoxReach's API is Python, whose JSON may carry a count as `2.0`
/// or `"2"`; either is the integer it plainly names. A fraction or a value out
/// of range is not, and degrades.
macro_rules! lenient_integer {
    ($($int:ty),*) => {$(
        impl Lenient for $int {
            fn from_text(text: Cow<'_, str>) -> Result<Self, Cow<'_, str>> {
                text.parse().map_err(|_| text)
            }

            fn from_u64(value: u64) -> Option<Self> {
                value.try_into().ok()
            }

            fn from_i64(value: i64) -> Option<Self> {
                value.try_into().ok()
            }

            fn from_f64(value: f64) -> Option<Self> {
                // `as` saturates, so the round trip tells an exact integer in range.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
                let int = value as $int;
                (value.fract() == 0.0 && int as f64 == value && value < <$int>::MAX as f64 + 1.0).then_some(int)
            }
        }
    )*};
}

lenient_integer!(u32, u64);

impl Lenient for Vec<String> {
    fn from_seq(seq: Vec<Value>) -> Result<Self, Value> {
        if !seq.iter().all(Value::is_string) {
            return Err(Value::Array(seq));
        }
        Ok(seq.into_iter().filter_map(|item| if let Value::String(item) = item { Some(item) } else { None }).collect())
    }
}

impl Lenient for Map<String, Value> {
    const OBJECT: bool = true;

    fn from_map(map: Map<String, Value>) -> Result<Self, Value> {
        Ok(map)
    }
}

/// A date-time field holds what a [`Timestamp`] can read as an instant: a
/// string or a number of Unix seconds.
impl Lenient for Timestamp {
    fn from_text(text: Cow<'_, str>) -> Result<Self, Cow<'_, str>> {
        Ok(Self::new(text.into_owned()))
    }

    fn from_u64(value: u64) -> Option<Self> {
        Some(Self::from_value(value.into()))
    }

    fn from_i64(value: i64) -> Option<Self> {
        Some(Self::from_value(value.into()))
    }

    fn from_f64(value: f64) -> Option<Self> {
        Some(Self::from_value(value.into()))
    }
}

/// A required id: a string, or an integer taken as its decimal text (a
/// database id FoxReach might one day write unquoted), also when written
/// as an integral float (`123.0`) up to 2^53, where floats stop being exact.
/// Anything else, `null` included, is an error: the payload cannot say what
/// it is about. (An integer beyond 2^64 reaches serde_json as a float and
/// cannot be read exactly: such an event is untyped.)
pub(crate) struct Id(pub(crate) String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;

        impl Visitor<'_> for IdVisitor {
            type Value = Id;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id (a string or an integer)")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Id, E> {
                Ok(Id(value.to_owned()))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<Id, E> {
                Ok(Id(value))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Id, E> {
                Ok(Id(value.to_string()))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Id, E> {
                Ok(Id(value.to_string()))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Id, E> {
                exact_integer(value)
                    .map(|integer| Id(integer.to_string()))
                    .ok_or_else(|| E::invalid_type(de::Unexpected::Float(value), &self))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Id, E> {
                Err(E::invalid_type(de::Unexpected::Unit, &self))
            }
        }

        deserializer.deserialize_any(IdVisitor)
    }
}

/// Whether a raw JSON value would be read as an [`Id`].
pub(crate) fn is_id(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Number(number) => {
            number.is_u64() || number.is_i64() || number.as_f64().and_then(exact_integer).is_some()
        }
        _ => false,
    }
}

/// `value` as an integer, if it is one that a float holds exactly.
#[allow(clippy::cast_possible_truncation)]
fn exact_integer(value: f64) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    // In range and integral, so the cast is exact.
    (value.fract() == 0.0 && value.abs() <= EXACT).then_some(value as i64)
}
