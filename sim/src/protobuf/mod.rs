//! Decoding the Kubernetes protobuf request bodies that `kubectl create
//! <generator>` sends (`kubectl create namespace|configmap|secret|
//! serviceaccount|deployment`), into the same JSON the simulator stores.
//! Only the kinds and fields in `schema` are understood; anything else is
//! refused with 415, so nothing is silently dropped on the floor for kinds
//! the simulator cannot read.

mod schema;
mod wire;

use base64::Engine;
use serde_json::{Map, Value, json};

use schema::{FieldKind, Schema};
use wire::{FieldReader, WireError, WireValue};

/// The 4-byte prefix of every Kubernetes protobuf object.
const MAGIC: &[u8] = b"k8s\x00";

/// Protobuf bodies the simulator cannot decode.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtobufError {
    /// The body is not a Kubernetes protobuf envelope.
    #[error("the body is not a Kubernetes protobuf object (missing the k8s\\0 prefix)")]
    NotKubernetes,
    /// The wire format is broken.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The simulator has no schema for this kind.
    #[error(
        "fleet-sim cannot decode protobuf for {api_version}, Kind={kind}; send JSON (kubectl apply or create -f)"
    )]
    UnsupportedKind {
        /// The apiVersion in the envelope.
        api_version: String,
        /// The kind in the envelope.
        kind: String,
    },
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Decodes a `k8s\0`-prefixed `runtime.Unknown` envelope into JSON.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or(ProtobufError::NotKubernetes)?;
    let mut reader = FieldReader::new(envelope);
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    while let Some((number, value)) = reader.next_field()? {
        match (number, value) {
            (1, WireValue::Bytes(type_meta)) => {
                let mut type_reader = FieldReader::new(type_meta);
                while let Some((field, value)) = type_reader.next_field()? {
                    match (field, value) {
                        (1, WireValue::Bytes(bytes)) => api_version = text(bytes),
                        (2, WireValue::Bytes(bytes)) => kind = text(bytes),
                        _ => {}
                    }
                }
            }
            (2, WireValue::Bytes(bytes)) => raw = bytes,
            _ => {}
        }
    }
    let schema =
        schema::for_kind(&api_version, &kind).ok_or_else(|| ProtobufError::UnsupportedKind {
            api_version: api_version.clone(),
            kind: kind.clone(),
        })?;
    let mut object = decode_message(raw, schema)?;
    if let Some(map) = object.as_object_mut() {
        let mut ordered = Map::new();
        ordered.insert("apiVersion".into(), json!(api_version));
        ordered.insert("kind".into(), json!(kind));
        ordered.extend(std::mem::take(map));
        *map = ordered;
    }
    Ok(object)
}

fn decode_message(bytes: &[u8], schema: &Schema) -> Result<Value, WireError> {
    let mut object = Map::new();
    let mut reader = FieldReader::new(bytes);
    while let Some((number, value)) = reader.next_field()? {
        let Some((_, name, kind)) = schema.iter().find(|(field, _, _)| *field == number) else {
            continue;
        };
        let name = (*name).to_string();
        match (kind, value) {
            (FieldKind::String, WireValue::Bytes(bytes)) if !bytes.is_empty() => {
                object.insert(name, json!(text(bytes)));
            }
            (FieldKind::Integer, WireValue::Varint(number)) if number != 0 => {
                object.insert(name, json!(number as i64));
            }
            (FieldKind::OptionalInteger, WireValue::Varint(number)) => {
                object.insert(name, json!(number as i64));
            }
            (FieldKind::Bool, WireValue::Varint(flag)) if flag != 0 => {
                object.insert(name, json!(true));
            }
            (FieldKind::OptionalBool, WireValue::Varint(flag)) => {
                object.insert(name, json!(flag != 0));
            }
            (FieldKind::Message(inner), WireValue::Bytes(bytes)) => {
                object.insert(name, decode_message(bytes, inner)?);
            }
            (FieldKind::Strings, WireValue::Bytes(bytes)) => {
                push(&mut object, name, json!(text(bytes)))
            }
            (FieldKind::Messages(inner), WireValue::Bytes(bytes)) => {
                let item = decode_message(bytes, inner)?;
                push(&mut object, name, item);
            }
            (
                FieldKind::StringMap | FieldKind::BytesMap | FieldKind::QuantityMap,
                WireValue::Bytes(bytes),
            ) => {
                let (key, value) = map_entry(bytes, kind)?;
                let entry = object.entry(name).or_insert_with(|| json!({}));
                if let Some(map) = entry.as_object_mut() {
                    map.insert(key, value);
                }
            }
            (FieldKind::Time, WireValue::Bytes(bytes)) => {
                let mut time_reader = FieldReader::new(bytes);
                let mut seconds = 0i64;
                while let Some((field, value)) = time_reader.next_field()? {
                    if let (1, WireValue::Varint(value)) = (field, value) {
                        seconds = value as i64;
                    }
                }
                if seconds != 0 {
                    object.insert(
                        name,
                        json!(crate::clock::UtcDateTime::from_unix_seconds(seconds).to_rfc3339()),
                    );
                }
            }
            (FieldKind::IntOrString, WireValue::Bytes(bytes)) => {
                let mut value_reader = FieldReader::new(bytes);
                let (mut is_string, mut number, mut string) = (false, 0i64, String::new());
                while let Some((field, value)) = value_reader.next_field()? {
                    match (field, value) {
                        (1, WireValue::Varint(kind)) => is_string = kind == 1,
                        (2, WireValue::Varint(value)) => number = value as i64,
                        (3, WireValue::Bytes(bytes)) => string = text(bytes),
                        _ => {}
                    }
                }
                object.insert(
                    name,
                    if is_string {
                        json!(string)
                    } else {
                        json!(number)
                    },
                );
            }
            _ => {}
        }
    }
    Ok(Value::Object(object))
}

fn push(object: &mut Map<String, Value>, name: String, item: Value) {
    let entry = object.entry(name).or_insert_with(|| json!([]));
    if let Some(items) = entry.as_array_mut() {
        items.push(item);
    }
}

fn map_entry(bytes: &[u8], kind: &FieldKind) -> Result<(String, Value), WireError> {
    let mut reader = FieldReader::new(bytes);
    let (mut key, mut value) = (String::new(), Value::String(String::new()));
    while let Some((field, field_value)) = reader.next_field()? {
        match (field, field_value) {
            (1, WireValue::Bytes(bytes)) => key = text(bytes),
            (2, WireValue::Bytes(bytes)) => {
                value = match kind {
                    FieldKind::BytesMap => {
                        json!(base64::engine::general_purpose::STANDARD.encode(bytes))
                    }
                    FieldKind::QuantityMap => {
                        // resource.Quantity is a message whose field 1 is the string form.
                        let mut quantity = FieldReader::new(bytes);
                        let mut text_form = String::new();
                        while let Some((number, quantity_value)) = quantity.next_field()? {
                            if let (1, WireValue::Bytes(bytes)) = (number, quantity_value) {
                                text_form = text(bytes);
                            }
                        }
                        json!(text_form)
                    }
                    _ => json!(text(bytes)),
                }
            }
            _ => {}
        }
    }
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
        let mut encoded = vec![((number << 3) | 2) as u8, bytes.len() as u8];
        encoded.extend_from_slice(bytes);
        encoded
    }

    #[test]
    fn decodes_a_namespace_envelope() {
        let type_meta = [field(1, b"v1"), field(2, b"Namespace")].concat();
        let metadata = [
            field(1, b"team-a"),
            field(11, &[field(1, b"env"), field(2, b"prod")].concat()),
        ]
        .concat();
        let namespace = field(1, &metadata);
        let envelope = [
            b"k8s\x00".to_vec(),
            field(1, &type_meta),
            field(2, &namespace),
        ]
        .concat();
        assert_eq!(
            decode(&envelope).unwrap(),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "labels": {"env": "prod"}}})
        );
    }
}
