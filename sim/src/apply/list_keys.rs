//! Which lists are "associative" (merged item by item, keyed by some fields)
//! and which are atomic (replaced whole). A real server reads this from the
//! OpenAPI schema (`x-kubernetes-list-map-keys`); the simulator knows the
//! well-known list fields of the built-in kinds by name and treats every other
//! list as atomic.

use std::collections::BTreeMap;

use serde_json::Value;

/// The key fields of the list stored under `field_name`, if it is associative.
fn key_fields_for(field_name: &str, first_item: &Value) -> Option<&'static [&'static str]> {
    Some(match field_name {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates" => &["name"],
        "volumeMounts" => &["mountPath"],
        "volumeDevices" => &["devicePath"],
        "conditions" => &["type"],
        "ownerReferences" => &["uid"],
        "hostAliases" => &["ip"],
        "readinessGates" => &["conditionType"],
        "topologySpreadConstraints" => &["topologyKey", "whenUnsatisfiable"],
        "ports" if first_item.get("containerPort").is_some() => &["containerPort", "protocol"],
        "ports" if first_item.get("port").is_some() => &["port", "protocol"],
        _ => return None,
    })
}

/// The key of one list item as canonical JSON (`{"name":"web"}`), with the
/// `protocol` key defaulted to `TCP` as the real server defaults it.
fn item_key(item: &Value, key_fields: &[&str]) -> Option<String> {
    let object = item.as_object()?;
    let mut key = BTreeMap::new();
    for field in key_fields {
        match object.get(*field) {
            Some(value) if !value.is_null() => {
                key.insert((*field).to_string(), value.clone());
            }
            _ if *field == "protocol" => {
                key.insert("protocol".to_string(), Value::String("TCP".to_string()));
            }
            _ => return None,
        }
    }
    serde_json::to_string(&key).ok()
}

/// If the list under `field_name` is associative and every item carries its
/// keys, returns each item's key in order; otherwise `None` (atomic list).
pub fn list_item_keys(field_name: &str, items: &[Value]) -> Option<Vec<String>> {
    let first = items.first()?;
    let key_fields = key_fields_for(field_name, first)?;
    items
        .iter()
        .map(|item| item_key(item, key_fields))
        .collect()
}

/// Finds the index of the item whose key is `key` in an associative list.
pub fn find_item(field_name: &str, items: &[Value], key: &str) -> Option<usize> {
    let keys = list_item_keys(field_name, items)?;
    keys.iter().position(|candidate| candidate == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_are_keyed_by_name_and_ports_by_port_and_protocol() {
        let containers = vec![json!({"name": "web", "image": "nginx"})];
        assert_eq!(
            list_item_keys("containers", &containers),
            Some(vec![r#"{"name":"web"}"#.to_string()])
        );
        let ports = vec![json!({"containerPort": 80})];
        assert_eq!(
            list_item_keys("ports", &ports),
            Some(vec![r#"{"containerPort":80,"protocol":"TCP"}"#.to_string()])
        );
        assert_eq!(list_item_keys("args", &[json!("a")]), None);
    }
}
