//! Reading JSON as the API server does, and saying where it is wrong.
//!
//! - Objects only: serde's derived structs also accept a JSON array (fields by position), so
//!   `"securityContext": [true]` would read as `privileged: true` and `[false]` as a harmless context.
//!   Every struct must be a JSON object here, at every depth; anything else is a type error.
//! - The path of an error (`spec.containers[0].ports[0].hostPort`), built only when there is an error:
//!   the reader remembers the current key (borrowed from the input, so no allocation) and index of
//!   each open level, and each level adds its own while the error unwinds, so reading a valid
//!   document allocates nothing for paths (docs/performance.md compares serde_path_to_error).

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

/// A document that cannot be read: where, and what is wrong there.
#[derive(Debug)]
pub struct ReadError {
    /// `spec.containers[0].name`; empty when the document itself is wrong.
    pub path: String,
    pub error: serde_json::Error,
}

/// The path and what is wrong, without serde_json's ` at line L column C`: the position counts from
/// wherever the engine put the object in its payload (kwctl, policy-server and the harness each
/// put it elsewhere), so it means nothing to the user, and the same request must get the same
/// bytes back from every engine.
impl ReadError {
    /// What is wrong, without the position.
    pub fn message(&self) -> String {
        let mut message = self.error.to_string();
        let position = format!(
            " at line {} column {}",
            self.error.line(),
            self.error.column()
        );
        if message.ends_with(&position) {
            message.truncate(message.len() - position.len());
        }
        message
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message())
        } else {
            write!(f, "{}: {}", self.path, self.message())
        }
    }
}

/// Parses a whole JSON document strictly, naming the path of the first field that cannot be read.
pub fn from_slice<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, ReadError> {
    let track = Track::default();
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let read = T::deserialize(Strict {
        inner: &mut deserializer,
        track: &track,
    })
    .and_then(|value| deserializer.end().map(|()| value));
    read.map_err(|error| ReadError {
        path: track.path(),
        error,
    })
}

/// Where the error is, innermost segment first: each level pushes its own as the error passes.
#[derive(Default)]
struct Track<'de> {
    segments: RefCell<Vec<Segment<'de>>>,
}

enum Segment<'de> {
    Key(Cow<'de, str>),
    Index(usize),
}

impl Track<'_> {
    fn path(&self) -> String {
        let mut path = String::new();
        for segment in self.segments.borrow().iter().rev() {
            match segment {
                Segment::Key(key) if path.is_empty() => path.push_str(key),
                Segment::Key(key) => {
                    path.push('.');
                    path.push_str(key);
                }
                Segment::Index(index) => path.push_str(&format!("[{index}]")),
            }
        }
        path
    }
}

/// The deserializer wrapper: reads structs as maps, and wraps every nested reader.
struct Strict<'t, 'de, D> {
    inner: D,
    track: &'t Track<'de>,
}

/// Wraps whatever is handed on (visitor, seed, map, sequence) so nested values stay strict.
struct Wrap<'t, 'de, T> {
    inner: T,
    track: &'t Track<'de>,
}

impl<'t, 'de, T> Wrap<'t, 'de, T> {
    fn new(inner: T, track: &'t Track<'de>) -> Self {
        Wrap { inner, track }
    }
}

/// Implements every `deserialize_*` method but `deserialize_struct` by forwarding to the reader and
/// visitor that `self.split(visitor)` gives: each wrapper says once how it wraps.
macro_rules! forward_to_split {
    () => {
        forward_to_split! {
            deserialize_any(), deserialize_bool(), deserialize_i8(), deserialize_i16(), deserialize_i32(),
            deserialize_i64(), deserialize_i128(), deserialize_u8(), deserialize_u16(), deserialize_u32(),
            deserialize_u64(), deserialize_u128(), deserialize_f32(), deserialize_f64(), deserialize_char(),
            deserialize_str(), deserialize_string(), deserialize_bytes(), deserialize_byte_buf(),
            deserialize_option(), deserialize_unit(), deserialize_seq(), deserialize_map(),
            deserialize_identifier(), deserialize_ignored_any(),
            deserialize_unit_struct(name: &'static str),
            deserialize_newtype_struct(name: &'static str),
            deserialize_tuple(len: usize),
            deserialize_tuple_struct(name: &'static str, len: usize),
            deserialize_enum(name: &'static str, variants: &'static [&'static str]),
        }
    };
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            let (inner, visitor) = self.split(visitor);
            inner.$method($($arg,)* visitor)
        })*
    };
}

impl<'t, 'de, D> Strict<'t, 'de, D> {
    fn split<V>(self, visitor: V) -> (D, Wrap<'t, 'de, V>) {
        (self.inner, Wrap::new(visitor, self.track))
    }
}

impl<'t, 'de, D: Deserializer<'de>> Deserializer<'de> for Strict<'t, 'de, D> {
    type Error = D::Error;

    forward_to_split!();

    /// The one change: a struct is read as a map, never as a sequence.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(Wrap::new(visitor, self.track))
    }
}

macro_rules! visit_value {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method<E: de::Error>(self, value: $ty) -> Result<V::Value, E> {
            self.inner.$method(value)
        })*
    };
}

impl<'t, 'de, V: Visitor<'de>> Visitor<'de> for Wrap<'t, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(f)
    }

    visit_value! {
        visit_bool(bool), visit_i8(i8), visit_i16(i16), visit_i32(i32), visit_i64(i64), visit_i128(i128),
        visit_u8(u8), visit_u16(u16), visit_u32(u32), visit_u64(u64), visit_u128(u128), visit_f32(f32),
        visit_f64(f64), visit_char(char), visit_str(&str), visit_borrowed_str(&'de str), visit_string(String),
        visit_bytes(&[u8]), visit_borrowed_bytes(&'de [u8]), visit_byte_buf(Vec<u8>),
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Strict {
            inner: deserializer,
            track: self.track,
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Strict {
            inner: deserializer,
            track: self.track,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(Elements {
            inner: seq,
            track: self.track,
            index: 0,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Entries {
            inner: map,
            track: self.track,
            key: None,
        })
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

impl<'t, 'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Wrap<'t, 'de, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T::Value, D::Error> {
        self.inner.deserialize(Strict {
            inner: deserializer,
            track: self.track,
        })
    }
}

/// A sequence being read: knows the index of the element in hand.
struct Elements<'t, 'de, A> {
    inner: A,
    track: &'t Track<'de>,
    index: usize,
}

impl<'t, 'de, A: SeqAccess<'de>> SeqAccess<'de> for Elements<'t, 'de, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let element = self.inner.next_element_seed(Wrap::new(seed, self.track));
        if element.is_err() {
            let segment = Segment::Index(self.index);
            self.track.segments.borrow_mut().push(segment);
        }
        self.index += 1;
        element
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A map or object being read: keeps the key of the value in hand.
struct Entries<'t, 'de, A> {
    inner: A,
    track: &'t Track<'de>,
    key: Option<Cow<'de, str>>,
}

impl<'t, 'de, A: MapAccess<'de>> MapAccess<'de> for Entries<'t, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.key = None;
        self.inner.next_key_seed(CaptureKey {
            seed,
            key: &mut self.key,
            track: self.track,
        })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        let value = self.inner.next_value_seed(Wrap::new(seed, self.track));
        if value.is_err() {
            let key = self.key.take().unwrap_or(Cow::Borrowed("?"));
            self.track.segments.borrow_mut().push(Segment::Key(key));
        }
        value
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// Reads a key through its seed and keeps the text: borrowed from the input unless it had escapes.
struct CaptureKey<'k, 't, 'de, K> {
    seed: K,
    key: &'k mut Option<Cow<'de, str>>,
    track: &'t Track<'de>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for CaptureKey<'_, '_, 'de, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<K::Value, D::Error> {
        self.seed.deserialize(KeyReader {
            inner: Strict {
                inner: deserializer,
                track: self.track,
            },
            key: self.key,
        })
    }
}

struct KeyReader<'k, 't, 'de, D> {
    inner: Strict<'t, 'de, D>,
    key: &'k mut Option<Cow<'de, str>>,
}

impl<'k, 't, 'de, D> KeyReader<'k, 't, 'de, D> {
    fn split<V>(self, visitor: V) -> (Strict<'t, 'de, D>, KeyVisitor<'k, 'de, V>) {
        let visitor = KeyVisitor {
            inner: visitor,
            key: self.key,
        };
        (self.inner, visitor)
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyReader<'_, '_, 'de, D> {
    type Error = D::Error;

    forward_to_split!();

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let (inner, visitor) = self.split(visitor);
        inner.deserialize_struct(name, fields, visitor)
    }
}

struct KeyVisitor<'k, 'de, V> {
    inner: V,
    key: &'k mut Option<Cow<'de, str>>,
}

macro_rules! visit_key_value {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method<E: de::Error>(self, value: $ty) -> Result<V::Value, E> {
            self.inner.$method(value)
        })*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisitor<'_, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<V::Value, E> {
        *self.key = Some(Cow::Borrowed(value));
        self.inner.visit_borrowed_str(value)
    }

    /// A key with escapes: the one case that allocates.
    fn visit_str<E: de::Error>(self, value: &str) -> Result<V::Value, E> {
        *self.key = Some(Cow::Owned(value.to_owned()));
        self.inner.visit_str(value)
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<V::Value, E> {
        *self.key = Some(Cow::Owned(value.clone()));
        self.inner.visit_string(value)
    }

    visit_key_value! {
        visit_bool(bool), visit_i8(i8), visit_i16(i16), visit_i32(i32), visit_i64(i64), visit_i128(i128),
        visit_u8(u8), visit_u16(u16), visit_u32(u32), visit_u64(u64), visit_u128(u128), visit_f32(f32),
        visit_f64(f64), visit_char(char), visit_bytes(&[u8]), visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pod::Pod;

    fn read(json: &str) -> Result<Pod<'_>, String> {
        from_slice(json.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn structs_must_be_objects_at_every_depth() {
        assert!(read(r#"{"spec": {"containers": [{"name": "a", "securityContext": {"privileged": true}}]}}"#).is_ok());
        for json in [
            r#"{"spec": {"containers": [{"name": "a", "securityContext": [false]}]}}"#,
            r#"{"spec": {"containers": [["a"]]}}"#,
            r#"{"spec": [[]]}"#,
            r#"[{}, {}]"#,
            r#"{"spec": {"containers": [{"name": "a", "ports": [[80]]}]}}"#,
        ] {
            let err = read(json).expect_err(json);
            assert!(err.contains("invalid type: sequence"), "{json}: {err}");
        }
    }

    #[test]
    fn errors_name_their_path() {
        let cases = [
            (
                r#"{"spec": {"containers": [{"name": "a"}, {"name": "b", "ports": [{}, {"hostPort": "80"}]}]}}"#,
                "spec.containers[1].ports[1].hostPort: invalid type: string \"80\"",
            ),
            (
                r#"{"metadata": {"annotations": {"a": "x", "b\u00e9": 3}}}"#,
                "metadata.annotations.b\u{e9}: invalid type: integer `3`",
            ),
            (r#"{"spec": 3}"#, "spec: invalid type: integer `3`"),
            (r#"[]"#, "invalid type: sequence"),
            (r#"{} x"#, "trailing characters"),
        ];
        for (json, expected) in cases {
            let err = read(json).expect_err(json);
            assert!(err.starts_with(expected), "{json}: {err}");
            assert!(!err.contains(" at line "), "no position: {err}");
        }
    }

    #[test]
    fn borrowed_values_still_borrow() {
        #[derive(Deserialize)]
        struct Borrowing<'a> {
            #[serde(borrow)]
            raw: &'a serde_json::value::RawValue,
        }
        let json = r#"{"raw": {"a": [1, 2]}}"#;
        let value: Borrowing = from_slice(json.as_bytes()).unwrap();
        assert_eq!(value.raw.get(), r#"{"a": [1, 2]}"#);
    }
}
