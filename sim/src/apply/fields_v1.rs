//! The FieldsV1 wire format of `managedFields[].fieldsV1`: a nested JSON tree
//! of `f:`/`k:` keys where `{}` marks an owned leaf and `".": {}` marks an
//! owned node that also has owned children.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::field_path::{FieldPath, FieldSet, PathElement};

#[derive(Default)]
struct Node {
    member: bool,
    children: BTreeMap<String, Node>,
}

/// Serializes a field set as FieldsV1 JSON.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Node::default();
    for path in set {
        let mut node = &mut root;
        for element in path {
            node = node.children.entry(element.to_fields_v1()).or_default();
        }
        node.member = true;
    }
    render(&root)
}

fn render(node: &Node) -> Value {
    let mut map = Map::new();
    if node.member && !node.children.is_empty() {
        map.insert(".".to_string(), Value::Object(Map::new()));
    }
    for (key, child) in &node.children {
        map.insert(key.clone(), render(child));
    }
    Value::Object(map)
}

/// Parses FieldsV1 JSON into a field set; unknown keys are skipped.
pub fn from_fields_v1(value: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    let mut path = Vec::new();
    parse(value, &mut path, &mut set);
    set
}

fn parse(value: &Value, path: &mut FieldPath, set: &mut FieldSet) {
    let Some(map) = value.as_object() else {
        return;
    };
    if map.is_empty() && !path.is_empty() {
        set.insert(path.clone());
        return;
    }
    for (key, child) in map {
        if key == "." {
            if !path.is_empty() {
                set.insert(path.clone());
            }
            continue;
        }
        let Some(element) = PathElement::from_fields_v1(key) else {
            continue;
        };
        path.push(element);
        parse(child, path, set);
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::field_path::fields_of;
    use serde_json::json;

    #[test]
    fn round_trips_with_dot_members_for_list_items() {
        let object = json!({"metadata": {"labels": {"app": "web"}},
                            "spec": {"containers": [{"name": "web", "image": "nginx"}]}});
        let set = fields_of(&object);
        let wire = to_fields_v1(&set);
        assert_eq!(
            wire,
            json!({"f:metadata": {"f:labels": {"f:app": {}}},
                   "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}})
        );
        assert_eq!(from_fields_v1(&wire), set);
    }
}
