//! The field names of a struct that derives `Deserialize`: serde hands them to the deserializer,
//! so one that only listens can tell them. Keeps lists of keys out of hand-kept copies.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// The fields `T` reads, in declaration order (renamed as written in the document).
pub fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The listener always stops with an error once it has heard the fields.
    let _ = T::deserialize(Listener(&mut fields));
    fields
}

struct Listener<'a>(&'a mut &'static [&'static str]);

#[derive(Debug)]
struct Heard;

impl fmt::Display for Heard {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the fields were heard")
    }
}

impl std::error::Error for Heard {}

impl de::Error for Heard {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Heard
    }
}

impl<'de> Deserializer<'de> for Listener<'_> {
    type Error = Heard;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Heard> {
        Err(Heard)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Heard> {
        *self.0 = fields;
        Err(Heard)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    #[serde(rename_all = "kebab-case")]
    #[allow(dead_code)]
    struct Example {
        first: u8,
        second_key: Option<String>,
    }

    #[test]
    fn lists_a_structs_fields_as_written() {
        assert_eq!(fields_of::<Example>(), ["first", "second-key"]);
        assert!(fields_of::<u8>().is_empty());
    }
}
