//! Canonical serialization and digests of rendered objects.
//!
//! The canonical form is compact JSON with every object's keys sorted, so the
//! same desired state always gives the same bytes and the same sha256 —
//! whichever node renders it, whatever order the YAML was written in.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// `value` with the keys of every object sorted.
pub fn canonicalize(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut sorted = Map::new();
            for key in keys {
                sorted.insert(key.clone(), canonicalize(&map[key]));
            }
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonicalize).collect()),
        other => other.clone(),
    }
}

/// Sorts the keys of every object in `value`, in place — [`canonicalize`]
/// without copying (rendering runs it for every object of every cluster).
pub fn canonicalize_in_place(value: &mut Value) {
    value.sort_all_objects();
}

/// The canonical bytes of an already canonicalized value.
pub fn canonical_bytes(value: &Value) -> Vec<u8> {
    // Serializing a `Value` cannot fail: its keys are strings.
    serde_json::to_vec(value).unwrap_or_default()
}

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// `value` in display order: `apiVersion`, `kind`, `metadata` first, the
/// rest sorted — how people expect to read a manifest.
pub fn display_order(value: &Value) -> Value {
    let canonical = canonicalize(value);
    let Value::Object(map) = canonical else {
        return canonical;
    };
    let mut ordered = leading(map, &["apiVersion", "kind", "metadata"]);
    if let Some(Value::Object(metadata)) = ordered.get("metadata") {
        let metadata = leading(metadata.clone(), &["name", "namespace"]);
        ordered.insert("metadata".to_owned(), Value::Object(metadata));
    }
    Value::Object(ordered)
}

/// `map` with the `first` keys (those present) moved to the front.
fn leading(map: Map<String, Value>, first: &[&str]) -> Map<String, Value> {
    let mut ordered = Map::new();
    for key in first {
        if let Some(field) = map.get(*key) {
            ordered.insert((*key).to_owned(), field.clone());
        }
    }
    for (key, field) in map {
        if !ordered.contains_key(&key) {
            ordered.insert(key, field);
        }
    }
    ordered
}

/// One object as a YAML document (display order, no leading `---`).
pub fn to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(&display_order(value))
        .unwrap_or_else(|error| format!("# unprintable: {error}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorting_in_place_gives_the_canonical_form() {
        let value = json!({"b": {"z": 1, "a": [{"y": 2, "x": 3}]}, "a": 1});
        let mut in_place = value.clone();
        canonicalize_in_place(&mut in_place);
        assert_eq!(
            canonical_bytes(&in_place),
            canonical_bytes(&canonicalize(&value))
        );
        assert_eq!(
            String::from_utf8(canonical_bytes(&in_place)).unwrap(),
            r#"{"a":1,"b":{"a":[{"x":3,"y":2}],"z":1}}"#
        );
    }

    #[test]
    fn key_order_does_not_change_the_digest() {
        let a = json!({"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": "s"}});
        let b = json!({"a": {"x": "s", "y": [1, {"c": 3, "d": 2}]}, "b": 1});
        let digest_a = digest(&canonical_bytes(&canonicalize(&a)));
        let digest_b = digest(&canonical_bytes(&canonicalize(&b)));
        assert_eq!(digest_a, digest_b);
        assert!(digest_a.starts_with("sha256:"));
        assert_ne!(
            digest_a,
            digest(&canonical_bytes(&canonicalize(&json!({"b": 2}))))
        );
    }

    #[test]
    fn display_order_puts_the_envelope_first() {
        let object =
            json!({"spec": {}, "metadata": {"name": "a"}, "kind": "K", "apiVersion": "v1"});
        let yaml = to_yaml(&object);
        assert!(
            yaml.starts_with("apiVersion: v1\nkind: K\nmetadata:"),
            "{yaml}"
        );
    }
}
