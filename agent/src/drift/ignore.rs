//! `ignoreDifferences`: which JSON pointers of an object the agent neither
//! reports nor reverts. When such an object is applied again, the live
//! values at those pointers are written back into the manifest, so the apply
//! leaves them alone (an autoscaler keeps owning `/spec/replicas`).

use fleet_proto::IgnoreDifference;
use serde_json::Value;

use crate::apply::object::ObjectKey;

/// The pointers of `rules` that apply to `key`.
pub fn pointers_for(rules: &[IgnoreDifference], key: &ObjectKey) -> Vec<String> {
    rules
        .iter()
        .filter(|rule| {
            let group = if rule.group == "core" {
                ""
            } else {
                rule.group.as_str()
            };
            group == key.group
                && rule.kind == key.kind
                && (rule.name.is_empty() || rule.name == key.name)
                && (rule.namespace.is_empty() || rule.namespace == key.namespace)
        })
        .flat_map(|rule| rule.json_pointers.iter().cloned())
        .collect()
}

/// `manifest` with the live value at each ignored pointer (where the live
/// object has one and the manifest has the parent to hold it).
pub fn with_live_values(manifest: &Value, live: Option<&Value>, pointers: &[String]) -> Value {
    let mut manifest = manifest.clone();
    let Some(live) = live else {
        return manifest;
    };
    for pointer in pointers {
        let Some(value) = live.pointer(pointer) else {
            continue;
        };
        let Some((parent, last)) = pointer.rsplit_once('/') else {
            continue;
        };
        let last = last.replace("~1", "/").replace("~0", "~");
        match manifest.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.insert(last, value.clone());
            }
            Some(Value::Array(items)) => {
                if let Some(item) = last
                    .parse::<usize>()
                    .ok()
                    .and_then(|index| items.get_mut(index))
                {
                    *item = value.clone();
                }
            }
            _ => {}
        }
    }
    manifest
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_live_values_at_ignored_pointers() {
        let rules = [IgnoreDifference {
            group: "apps".into(),
            kind: "Deployment".into(),
            name: "web".into(),
            namespace: String::new(),
            json_pointers: vec!["/spec/replicas".into()],
        }];
        let key = ObjectKey {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: "web".into(),
            name: "web".into(),
        };
        let pointers = pointers_for(&rules, &key);
        assert_eq!(pointers, ["/spec/replicas"]);
        let other = ObjectKey {
            name: "api".into(),
            ..key
        };
        assert!(pointers_for(&rules, &other).is_empty());
        let manifest = json!({"spec": {"replicas": 2, "image": "a"}});
        let live = json!({"spec": {"replicas": 7, "image": "b"}});
        assert_eq!(
            with_live_values(&manifest, Some(&live), &pointers),
            json!({"spec": {"replicas": 7, "image": "a"}})
        );
        assert_eq!(with_live_values(&manifest, None, &pointers), manifest);
    }
}
