//! A YAML node tree that keeps the line of every node.
//!
//! serde-saphyr reports locations through its `Spanned<T>` wrapper; this
//! module deserializes a whole document as nested `Spanned` nodes and flattens
//! them into a JSON value plus a pointer → line map.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

use super::document::LineIndex;

/// One parsed YAML node; children carry their own locations.
#[derive(Debug)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Sequence(Vec<Spanned<Node>>),
    Mapping(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl Node {
    /// Converts the tree into a JSON value, recording each node's line under
    /// its JSON pointer (`pointer` is the pointer of `self`). A mapping or
    /// sequence used as a mapping key has no JSON form and is refused with
    /// its line (`image: {{ .x }}` parses as a map whose key is a map).
    pub(crate) fn into_value(
        self,
        pointer: &str,
        lines: &mut LineIndex,
    ) -> Result<Value, NonScalarKey> {
        Ok(match self {
            Node::Null => Value::Null,
            Node::Bool(value) => Value::Bool(value),
            Node::Number(value) => Value::Number(value),
            Node::String(value) => Value::String(value),
            Node::Sequence(items) => {
                let mut values = Vec::with_capacity(items.len());
                for (index, item) in items.into_iter().enumerate() {
                    let child = format!("{pointer}/{index}");
                    lines.insert(child.clone(), item.referenced.line());
                    values.push(item.value.into_value(&child, lines)?);
                }
                Value::Array(values)
            }
            Node::Mapping(entries) => {
                let mut map = Map::new();
                for (key, value) in entries {
                    let Some(key_text) = key.value.key_text() else {
                        return Err(NonScalarKey {
                            line: key.referenced.line().max(1),
                        });
                    };
                    let child = format!("{pointer}/{}", escape_pointer(&key_text));
                    // The key's line is where a reader looks for the entry.
                    lines.insert(child.clone(), key.referenced.line());
                    let value = value.value.into_value(&child, lines)?;
                    map.insert(key_text, value);
                }
                Value::Object(map)
            }
        })
    }

    /// The text of a mapping key (YAML allows non-string keys such as `80:`);
    /// `None` for a mapping or sequence.
    fn key_text(&self) -> Option<String> {
        match self {
            Node::Null => Some("null".to_owned()),
            Node::Bool(value) => Some(value.to_string()),
            Node::Number(value) => Some(value.to_string()),
            Node::String(value) => Some(value.clone()),
            Node::Sequence(_) | Node::Mapping(_) => None,
        }
    }
}

/// A mapping or sequence was used as a mapping key, at `line`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NonScalarKey {
    /// 1-based line of the key.
    pub(crate) line: u64,
}

impl NonScalarKey {
    /// What the author is told.
    pub(crate) const MESSAGE: &'static str = "non-scalar mapping key: a mapping or list is used as a key \
         (a template such as `{{ .x }}` must be quoted)";
}

/// Escapes one JSON pointer segment (RFC 6901).
pub(crate) fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Number(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Node, E> {
        Ok(Node::Number(value.into()))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Node, E> {
        i64::try_from(value)
            .map(|value| Node::Number(value.into()))
            .or_else(|_| u64::try_from(value).map(|value| Node::Number(value.into())))
            .map_err(|_| E::custom(format!("integer {value} is out of range")))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Node, E> {
        u64::try_from(value)
            .map(|value| Node::Number(value.into()))
            .map_err(|_| E::custom(format!("integer {value} is out of range")))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Node, E> {
        Number::from_f64(value)
            .map(Node::Number)
            .ok_or_else(|| E::custom(format!("{value} is not a finite number")))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Node, E> {
        Ok(Node::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Node, E> {
        Ok(Node::String(value))
    }

    fn visit_bytes<E: de::Error>(self, value: &[u8]) -> Result<Node, E> {
        Ok(Node::String(String::from_utf8_lossy(value).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = sequence.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Node>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Mapping(entries))
    }
}
