//! Drift is a difference in a field the agent manages: every field of the
//! desired object (labels and annotations included, other metadata and
//! `status` excluded) must hold the same value in the live object. Fields the
//! server adds (defaults, status, other managers' fields) are not drift.
//! Lists are compared item by item and must have the same length.

use base64::Engine;
use serde_json::Value;

use crate::apply::object::ObjectKey;

/// One field that differs.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// JSON pointer of the field.
    pub pointer: String,
    /// What Git says.
    pub desired: Value,
    /// What the cluster has (`None`: absent).
    pub live: Option<Value>,
}

/// Escapes one JSON-pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn ignored(pointer: &str, ignored: &[String]) -> bool {
    ignored.iter().any(|prefix| {
        pointer == prefix
            || (pointer.starts_with(prefix.as_str())
                && pointer.as_bytes().get(prefix.len()) == Some(&b'/'))
    })
}

/// What the desired object looks like once stored, for the fields where a
/// real API server rewrites input (Secret `stringData` becomes `data`).
fn normalized(key: &ObjectKey, desired: &Value) -> Value {
    let mut desired = desired.clone();
    if key.group.is_empty()
        && key.kind == "Secret"
        && let Some(object) = desired.as_object_mut()
        && let Some(Value::Object(string_data)) = object.remove("stringData")
    {
        let data = object
            .entry("data")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(data) = data.as_object_mut() {
            for (name, value) in string_data {
                let text = value.as_str().unwrap_or_default();
                data.insert(
                    name,
                    Value::String(base64::engine::general_purpose::STANDARD.encode(text)),
                );
            }
        }
    }
    desired
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn walk(
    pointer: &str,
    desired: &Value,
    live: Option<&Value>,
    ignore: &[String],
    out: &mut Vec<Difference>,
) {
    if ignored(pointer, ignore) {
        return;
    }
    let Some(live) = live else {
        if !is_empty(desired) {
            out.push(Difference {
                pointer: pointer.to_owned(),
                desired: desired.clone(),
                live: None,
            });
        }
        return;
    };
    match (desired, live) {
        (Value::Object(desired), Value::Object(live)) => {
            for (name, value) in desired {
                walk(
                    &format!("{pointer}/{}", escape(name)),
                    value,
                    live.get(name),
                    ignore,
                    out,
                );
            }
        }
        (Value::Array(desired_items), Value::Array(live_items))
            if desired_items.len() == live_items.len() =>
        {
            for (index, (desired, live)) in desired_items.iter().zip(live_items).enumerate() {
                walk(
                    &format!("{pointer}/{index}"),
                    desired,
                    Some(live),
                    ignore,
                    out,
                );
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (desired, live) if desired == live || (is_empty(desired) && is_empty(live)) => {}
        (desired, live) => out.push(Difference {
            pointer: pointer.to_owned(),
            desired: desired.clone(),
            live: Some(live.clone()),
        }),
    }
}

/// The managed fields of `desired` that `live` does not hold, except those
/// under an `ignored` pointer.
pub fn differences(
    key: &ObjectKey,
    desired: &Value,
    live: &Value,
    ignore: &[String],
) -> Vec<Difference> {
    let desired = normalized(key, desired);
    let mut out = Vec::new();
    let Some(fields) = desired.as_object() else {
        return out;
    };
    for (name, value) in fields {
        match name.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => {
                for managed in ["labels", "annotations"] {
                    if let Some(value) = value.get(managed) {
                        walk(
                            &format!("/metadata/{managed}"),
                            value,
                            live.pointer(&format!("/metadata/{managed}")),
                            ignore,
                            &mut out,
                        );
                    }
                }
            }
            _ => walk(
                &format!("/{}", escape(name)),
                value,
                live.get(name),
                ignore,
                &mut out,
            ),
        }
    }
    out
}

/// Stands in for a value that must not leave the agent.
pub const REDACTED: &str = "(redacted)";

/// `differences` with the values that must never leave the agent replaced
/// by [`REDACTED`]: a Secret's `data` and `stringData`, and every value of
/// an object that is SOPS-encrypted in Git (`encrypted`). The pointers stay,
/// so the report still says which field drifted.
pub fn redacted(
    key: &ObjectKey,
    encrypted: bool,
    mut differences: Vec<Difference>,
) -> Vec<Difference> {
    let secret = key.group.is_empty() && key.kind == "Secret";
    for difference in &mut differences {
        let secret_field = ["/data", "/stringData"].iter().any(|field| {
            difference.pointer == *field
                || difference
                    .pointer
                    .strip_prefix(field)
                    .is_some_and(|rest| rest.starts_with('/'))
        });
        if encrypted || (secret && secret_field) {
            difference.desired = Value::String(REDACTED.to_owned());
            if difference.live.is_some() {
                difference.live = Some(Value::String(REDACTED.to_owned()));
            }
        }
    }
    differences
}

fn short(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "(absent)".to_owned();
    };
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

/// A short, one-line diff: `/spec/replicas: 2 → 5; …`, at most three fields.
pub fn summary(differences: &[Difference]) -> String {
    let mut parts: Vec<String> = differences
        .iter()
        .take(3)
        .map(|difference| {
            format!(
                "{}: {} → {}",
                difference.pointer,
                short(Some(&difference.desired)),
                short(difference.live.as_ref())
            )
        })
        .collect();
    if differences.len() > 3 {
        parts.push(format!("and {} more", differences.len() - 3));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key(kind: &str) -> ObjectKey {
        ObjectKey {
            group: String::new(),
            kind: kind.into(),
            namespace: "web".into(),
            name: "web".into(),
        }
    }

    #[test]
    fn server_defaults_are_not_drift_but_changed_fields_are() {
        let desired = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "labels": {"fleet/app": "web"}},
            "spec": {"ports": [{"port": 80}], "replicas": 2}});
        let live = json!({"metadata": {"name": "web", "uid": "1", "labels": {"fleet/app": "web", "extra": "x"}},
            "spec": {"ports": [{"port": 80, "protocol": "TCP"}], "replicas": 2, "clusterIP": "10.0.0.1"},
            "status": {}});
        assert!(differences(&key("Service"), &desired, &live, &[]).is_empty());
        let mut changed = live.clone();
        changed["spec"]["replicas"] = json!(5);
        changed["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove("fleet/app");
        let found = differences(&key("Service"), &desired, &changed, &[]);
        assert_eq!(
            summary(&found),
            "/metadata/labels/fleet~1app: \"web\" → (absent); /spec/replicas: 2 → 5"
        );
        assert_eq!(
            differences(
                &key("Service"),
                &desired,
                &changed,
                &["/spec/replicas".into(), "/metadata/labels".into()]
            ),
            Vec::new()
        );
    }

    #[test]
    fn secret_values_never_appear_in_a_drift_summary() {
        let desired = json!({"metadata": {"labels": {"team": "db"}},
            "data": {"password": "aHVudGVyMg=="}, "type": "Opaque"});
        let live = json!({"metadata": {"labels": {"team": "web"}},
            "data": {"password": "c3dvcmRmaXNo"}, "type": "Opaque"});
        let found = redacted(
            &key("Secret"),
            false,
            differences(&key("Secret"), &desired, &live, &[]),
        );
        assert_eq!(
            summary(&found),
            "/metadata/labels/team: \"db\" → \"web\"; /data/password: \"(redacted)\" → \"(redacted)\""
        );
        // An object encrypted in Git shows no value at all.
        let config = json!({"data": {"token": "plain"}});
        let changed = json!({"data": {"token": "edited"}});
        let found = redacted(
            &key("ConfigMap"),
            true,
            differences(&key("ConfigMap"), &config, &changed, &[]),
        );
        assert_eq!(
            summary(&found),
            "/data/token: \"(redacted)\" → \"(redacted)\""
        );
        // A plain ConfigMap keeps its values.
        let found = redacted(
            &key("ConfigMap"),
            false,
            differences(&key("ConfigMap"), &config, &changed, &[]),
        );
        assert_eq!(summary(&found), "/data/token: \"plain\" → \"edited\"");
    }

    #[test]
    fn secret_string_data_matches_stored_data() {
        let desired = json!({"stringData": {"password": "hunter2"}});
        let live = json!({"data": {"password": "aHVudGVyMg=="}});
        assert!(differences(&key("Secret"), &desired, &live, &[]).is_empty());
    }
}
