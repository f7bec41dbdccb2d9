//! Defaulting the real server does on write, per kind: namespace labels and
//! phase, Service cluster IPs and port defaults, Secret `stringData`, and
//! workload replica defaults.

use base64::Engine;
use serde_json::{Value, json};

use crate::catalog::ResourceType;
use crate::store::StoreState;

fn set_default(object: &mut Value, pointer: &str, value: Value) {
    if object.pointer(pointer).is_some() {
        return;
    }
    let mut parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let Some(last) = parts.pop() else {
        return;
    };
    let mut current = object;
    for part in parts {
        if current.get(part).is_none()
            && let Some(map) = current.as_object_mut()
        {
            map.insert(part.to_string(), json!({}));
        }
        let Some(next) = current.get_mut(part) else {
            return;
        };
        current = next;
    }
    if let Some(map) = current.as_object_mut() {
        map.insert(last.to_string(), value);
    }
}

/// Applies defaults to `object` (being created when `old` is `None`).
pub fn apply_defaults(
    state: &mut StoreState,
    resource_type: &ResourceType,
    object: &mut Value,
    old: Option<&Value>,
) {
    if resource_type.custom {
        return;
    }
    match (resource_type.group.as_str(), resource_type.kind.as_str()) {
        ("", "Namespace") => {
            let name = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            set_default(object, "/metadata/labels", json!({}));
            if let Some(labels) = object
                .pointer_mut("/metadata/labels")
                .and_then(Value::as_object_mut)
            {
                labels.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
            set_default(object, "/spec/finalizers", json!(["kubernetes"]));
            set_default(object, "/status/phase", json!("Active"));
        }
        ("", "Service") => default_service(state, object, old),
        ("", "Secret") => {
            set_default(object, "/type", json!("Opaque"));
            if let Some(Value::Object(string_data)) = object
                .as_object_mut()
                .and_then(|map| map.shift_remove("stringData"))
            {
                for (key, value) in string_data {
                    let text = value.as_str().unwrap_or_default();
                    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                    set_default(object, "/data", json!({}));
                    if let Some(data) = object.get_mut("data").and_then(Value::as_object_mut) {
                        data.insert(key, json!(encoded));
                    }
                }
            }
        }
        ("apps", "Deployment") => {
            set_default(object, "/spec/replicas", json!(1));
            set_default(object, "/spec/progressDeadlineSeconds", json!(600));
            set_default(object, "/spec/revisionHistoryLimit", json!(10));
            set_default(object, "/spec/strategy/type", json!("RollingUpdate"));
            if object
                .pointer("/spec/strategy/type")
                .and_then(Value::as_str)
                == Some("RollingUpdate")
            {
                set_default(
                    object,
                    "/spec/strategy/rollingUpdate",
                    json!({"maxSurge": "25%", "maxUnavailable": "25%"}),
                );
            }
        }
        ("apps", "StatefulSet") | ("apps", "ReplicaSet") => {
            set_default(object, "/spec/replicas", json!(1));
        }
        ("batch", "Job") => {
            set_default(object, "/spec/completions", json!(1));
            set_default(object, "/spec/parallelism", json!(1));
            set_default(object, "/spec/backoffLimit", json!(6));
        }
        _ => {}
    }
}

fn default_service(state: &mut StoreState, object: &mut Value, old: Option<&Value>) {
    set_default(object, "/spec/type", json!("ClusterIP"));
    set_default(object, "/spec/sessionAffinity", json!("None"));
    let is_external_name =
        object.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName");
    if !is_external_name && object.pointer("/spec/clusterIP").is_none() {
        let address = old
            .and_then(|old| old.pointer("/spec/clusterIP"))
            .cloned()
            .unwrap_or_else(|| json!(state.allocate_cluster_ip()));
        set_default(object, "/spec/clusterIP", address.clone());
        set_default(object, "/spec/clusterIPs", json!([address]));
    }
    if let Some(ports) = object
        .pointer_mut("/spec/ports")
        .and_then(Value::as_array_mut)
    {
        for port in ports {
            let number = port.get("port").cloned();
            set_default(port, "/protocol", json!("TCP"));
            if let Some(number) = number {
                set_default(port, "/targetPort", number);
            }
        }
    }
}
