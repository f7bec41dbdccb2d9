//! Merging an applied configuration into the live object: maps merge field by
//! field, associative lists merge item by item (by key), everything else is
//! replaced by the applied value.

use serde_json::Value;

use super::list_keys::list_item_keys;

/// Merges `applied` over `live`. `field_name` is the map key `live` sits
/// under (it decides whether a list is associative).
pub fn merge_applied(live: &Value, applied: &Value, field_name: Option<&str>) -> Value {
    match (live, applied) {
        (Value::Object(live_map), Value::Object(applied_map)) => {
            let mut result = live_map.clone();
            for (name, applied_child) in applied_map {
                if applied_child.is_null() {
                    continue;
                }
                let merged = match live_map.get(name) {
                    Some(live_child) => merge_applied(live_child, applied_child, Some(name)),
                    None => applied_child.clone(),
                };
                result.insert(name.clone(), merged);
            }
            Value::Object(result)
        }
        (Value::Array(live_items), Value::Array(applied_items)) => {
            let Some(name) = field_name else {
                return applied.clone();
            };
            let (Some(live_keys), Some(applied_keys)) = (
                list_item_keys(name, live_items),
                list_item_keys(name, applied_items),
            ) else {
                return applied.clone();
            };
            let mut result: Vec<Value> = Vec::with_capacity(live_items.len() + applied_items.len());
            for (live_item, live_key) in live_items.iter().zip(&live_keys) {
                match applied_keys.iter().position(|key| key == live_key) {
                    Some(index) => {
                        result.push(merge_applied(live_item, &applied_items[index], None))
                    }
                    None => result.push(live_item.clone()),
                }
            }
            for (applied_item, applied_key) in applied_items.iter().zip(&applied_keys) {
                if !live_keys.contains(applied_key) {
                    result.push(applied_item.clone());
                }
            }
            Value::Array(result)
        }
        _ => applied.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_containers_by_name_and_replaces_atomic_lists() {
        let live = json!({"containers": [{"name": "a", "image": "x", "args": ["1"]}, {"name": "b"}], "keep": 1});
        let applied =
            json!({"containers": [{"name": "a", "image": "y", "args": ["2"]}, {"name": "c"}]});
        assert_eq!(
            merge_applied(&live, &applied, None),
            json!({"containers": [{"name": "a", "image": "y", "args": ["2"]}, {"name": "b"}, {"name": "c"}], "keep": 1})
        );
    }
}
