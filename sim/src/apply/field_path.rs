//! Field paths and field sets: the vocabulary of managed fields. A path is a
//! list of elements (`f:spec`, `k:{"name":"web"}`); a set holds the paths a
//! manager owns. Sets are flat (every owned path listed); FieldsV1 nesting is
//! only a serialization concern (see `fields_v1`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

use super::list_keys;

/// One step in a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElement {
    /// A map field: `f:name`.
    Field(String),
    /// An item of an associative list, by its key as canonical JSON: `k:{"name":"web"}`.
    Key(String),
    /// An item of a set-like list, by value: `v:"x"`.
    Value(String),
    /// An item of a list by position: `i:0`.
    Index(usize),
}

impl PathElement {
    /// The FieldsV1 spelling of this element.
    pub fn to_fields_v1(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(key) => format!("k:{key}"),
            PathElement::Value(value) => format!("v:{value}"),
            PathElement::Index(index) => format!("i:{index}"),
        }
    }

    /// Parses a FieldsV1 key.
    pub fn from_fields_v1(text: &str) -> Option<Self> {
        let (prefix, rest) = text.split_once(':')?;
        match prefix {
            "f" => Some(PathElement::Field(rest.to_string())),
            "k" => {
                // Re-serialize so that keys compare canonically.
                let key: BTreeMap<String, Value> = serde_json::from_str(rest).ok()?;
                Some(PathElement::Key(serde_json::to_string(&key).ok()?))
            }
            "v" => Some(PathElement::Value(rest.to_string())),
            "i" => rest.parse().ok().map(PathElement::Index),
            _ => None,
        }
    }
}

/// A path from the object root.
pub type FieldPath = Vec<PathElement>;

/// A set of owned paths.
pub type FieldSet = BTreeSet<FieldPath>;

/// Renders a path as the real server prints it in conflicts:
/// `.spec.template.spec.containers[name="web"].image`.
pub struct DisplayPath<'a>(pub &'a [PathElement]);

impl fmt::Display for DisplayPath<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for element in self.0 {
            match element {
                PathElement::Field(name) => write!(formatter, ".{name}")?,
                PathElement::Key(key) => {
                    let fields: BTreeMap<String, Value> =
                        serde_json::from_str(key).unwrap_or_default();
                    let parts: Vec<String> = fields
                        .iter()
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect();
                    write!(formatter, "[{}]", parts.join(","))?;
                }
                PathElement::Value(value) => write!(formatter, "[={value}]")?,
                PathElement::Index(index) => write!(formatter, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Every leaf path of `value`: scalars, atomic lists and empty maps are leaves;
/// each item of an associative list is a member itself and its fields are
/// walked too.
pub fn fields_of(value: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    let mut path = Vec::new();
    collect(value, &mut path, &mut set);
    set
}

fn collect(value: &Value, path: &mut FieldPath, set: &mut FieldSet) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (name, child) in map {
                if child.is_null() {
                    continue;
                }
                path.push(PathElement::Field(name.clone()));
                collect(child, path, set);
                path.pop();
            }
        }
        Value::Array(items) => {
            let keys = last_field(path).and_then(|name| list_keys::list_item_keys(name, items));
            match keys {
                Some(keys) => {
                    for (item, key) in items.iter().zip(keys) {
                        path.push(PathElement::Key(key));
                        set.insert(path.clone());
                        if let Value::Object(fields) = item {
                            for (name, child) in fields {
                                if child.is_null() {
                                    continue;
                                }
                                path.push(PathElement::Field(name.clone()));
                                collect(child, path, set);
                                path.pop();
                            }
                        }
                        path.pop();
                    }
                }
                None => {
                    set.insert(path.clone());
                }
            }
        }
        _ => {
            if !path.is_empty() {
                set.insert(path.clone());
            }
        }
    }
}

fn last_field(path: &[PathElement]) -> Option<&str> {
    match path.last() {
        Some(PathElement::Field(name)) => Some(name),
        _ => None,
    }
}

/// The value at `path`, if present.
pub fn value_at<'a>(root: &'a Value, path: &[PathElement]) -> Option<&'a Value> {
    let mut current = root;
    let mut field_name: Option<&str> = None;
    for element in path {
        current = match element {
            PathElement::Field(name) => {
                field_name = Some(name);
                current.get(name)?
            }
            PathElement::Key(key) => {
                let items = current.as_array()?;
                let index = list_keys::find_item(field_name?, items, key)?;
                field_name = None;
                items.get(index)?
            }
            PathElement::Index(index) => current.get(*index)?,
            PathElement::Value(_) => return None,
        };
    }
    Some(current)
}

/// Removes the value at `path` (a map field or a list item). Returns whether
/// anything was removed.
pub fn remove_path(root: &mut Value, path: &[PathElement]) -> bool {
    let Some((last, parent_path)) = path.split_last() else {
        return false;
    };
    let parent_field = parent_path.iter().rev().find_map(|element| match element {
        PathElement::Field(name) => Some(name.clone()),
        _ => None,
    });
    let Some(parent) = value_at_mut(root, parent_path) else {
        return false;
    };
    match last {
        PathElement::Field(name) => parent
            .as_object_mut()
            .is_some_and(|map| map.shift_remove(name).is_some()),
        PathElement::Key(key) => {
            let Some(field_name) = parent_field else {
                return false;
            };
            let Some(items) = parent.as_array_mut() else {
                return false;
            };
            match list_keys::find_item(&field_name, items, key) {
                Some(index) => {
                    items.remove(index);
                    true
                }
                None => false,
            }
        }
        _ => false,
    }
}

/// Mutable access to the value at `path`.
pub fn value_at_mut<'a>(root: &'a mut Value, path: &[PathElement]) -> Option<&'a mut Value> {
    let mut current = root;
    let mut field_name: Option<String> = None;
    for element in path {
        current = match element {
            PathElement::Field(name) => {
                field_name = Some(name.clone());
                current.get_mut(name)?
            }
            PathElement::Key(key) => {
                let name = field_name.take()?;
                let items = current.as_array_mut()?;
                let index = list_keys::find_item(&name, items, key)?;
                items.get_mut(index)?
            }
            PathElement::Index(index) => current.get_mut(*index)?,
            PathElement::Value(_) => return None,
        };
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keyed_lists_produce_item_members_and_item_fields() {
        let object = json!({"spec": {"replicas": 2, "containers": [{"name": "web", "image": "nginx"}], "args": ["a"]}});
        let fields = fields_of(&object);
        let rendered: Vec<String> = fields
            .iter()
            .map(|path| DisplayPath(path).to_string())
            .collect();
        assert_eq!(
            rendered,
            vec![
                ".spec.args",
                ".spec.containers[name=\"web\"]",
                ".spec.containers[name=\"web\"].image",
                ".spec.containers[name=\"web\"].name",
                ".spec.replicas",
            ]
        );
        let image_path = fields.iter().nth(2).unwrap();
        assert_eq!(value_at(&object, image_path), Some(&json!("nginx")));
    }

    #[test]
    fn removes_map_fields_and_keyed_items() {
        let mut object = json!({"containers": [{"name": "a"}, {"name": "b"}], "x": 1});
        let item = vec![
            PathElement::Field("containers".into()),
            PathElement::Key(r#"{"name":"a"}"#.into()),
        ];
        assert!(remove_path(&mut object, &item));
        assert!(remove_path(&mut object, &[PathElement::Field("x".into())]));
        assert_eq!(object, json!({"containers": [{"name": "b"}]}));
    }
}
