//! `${name}` substitution in string values (DESIGN §2 step 3).
//!
//! Lookup order: cluster vars → environment vars → fleet vars → built-ins
//! (`cluster.name`, `cluster.labels.<key>`, `environment.name`, `app.name`).
//! `$${x}` is a literal `${x}`. An unknown variable is an error, never an
//! empty string. A string that is exactly `${name}` takes the variable's value
//! with its type, so `replicas: "${replicas}"` becomes a number.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::model::{Cluster, Environment, Fleet};

/// Where variables are looked up for one app on one cluster.
pub struct VariableScope<'a> {
    /// The cluster being rendered.
    pub cluster: &'a Cluster,
    /// Its environment.
    pub environment: &'a Environment,
    /// The fleet settings.
    pub fleet: &'a Fleet,
    /// The app being rendered.
    pub app: &'a str,
}

impl VariableScope<'_> {
    /// The value of `name`, if it is defined.
    pub fn lookup(&self, name: &str) -> Option<Value> {
        if let Some(value) = self
            .cluster
            .spec
            .vars
            .get(name)
            .or_else(|| self.environment.spec.vars.get(name))
            .or_else(|| self.fleet.spec.vars.get(name))
        {
            return Some(value.clone());
        }
        match name {
            "cluster.name" => Some(Value::String(self.cluster.name.clone())),
            "environment.name" => Some(Value::String(self.environment.name.clone())),
            "app.name" => Some(Value::String(self.app.to_owned())),
            _ => name
                .strip_prefix("cluster.labels.")
                .and_then(|key| self.cluster.labels.get(key))
                .map(|label| Value::String(label.clone())),
        }
    }
}

/// One piece of a string with variables.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Variable(&'a str),
}

fn split(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        let after = &rest[start..];
        if after.starts_with("$${") {
            pieces.push(Piece::Text(&rest[..start]));
            pieces.push(Piece::Text("$"));
            rest = &rest[start + 2..];
            // Keep `{...}` literal: emit up to and including the brace.
            pieces.push(Piece::Text("{"));
            rest = &rest[1..];
            continue;
        }
        if after.starts_with("${") {
            pieces.push(Piece::Text(&rest[..start]));
            let Some(end) = after.find('}') else {
                return Err(format!("unterminated '${{' in '{text}'"));
            };
            let name = &after[2..end];
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            {
                return Err(format!("invalid variable name '{name}' in '{text}'"));
            }
            pieces.push(Piece::Variable(name));
            rest = &after[end + 1..];
            continue;
        }
        pieces.push(Piece::Text(&rest[..=start]));
        rest = &rest[start + 1..];
    }
    pieces.push(Piece::Text(rest));
    pieces.retain(|piece| *piece != Piece::Text(""));
    Ok(pieces)
}

/// Names of every variable referenced in the strings of `value`.
pub fn referenced_variables(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::String(text) if text.contains('$') => {
            if let Ok(pieces) = split(text) {
                for piece in pieces {
                    if let Piece::Variable(name) = piece {
                        names.insert(name.to_owned());
                    }
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| referenced_variables(item, names)),
        Value::Object(map) => map
            .values()
            .for_each(|field| referenced_variables(field, names)),
        _ => {}
    }
}

/// A substitution failure: the JSON pointer of the string and what is wrong.
pub type SubstitutionError = (String, String);

/// Replaces variables in every string of `value` (at `pointer`), collecting
/// every failure.
pub fn substitute(
    value: &mut Value,
    pointer: &str,
    lookup: &dyn Fn(&str) -> Option<Value>,
    errors: &mut Vec<SubstitutionError>,
) {
    match value {
        Value::String(text) if text.contains('$') => match substitute_text(text, lookup) {
            Ok(replacement) => *value = replacement,
            Err(message) => errors.push((pointer.to_owned(), message)),
        },
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                substitute(item, &format!("{pointer}/{index}"), lookup, errors);
            }
        }
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                substitute(field, &child, lookup, errors);
            }
        }
        _ => {}
    }
}

fn substitute_text(text: &str, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<Value, String> {
    let pieces = split(text)?;
    if let [Piece::Variable(name)] = pieces.as_slice() {
        return lookup(name).ok_or_else(|| unknown(name));
    }
    let mut output = String::with_capacity(text.len());
    for piece in pieces {
        match piece {
            Piece::Text(part) => output.push_str(part),
            Piece::Variable(name) => match lookup(name).ok_or_else(|| unknown(name))? {
                Value::String(value) => output.push_str(&value),
                Value::Number(value) => output.push_str(&value.to_string()),
                Value::Bool(value) => output.push_str(&value.to_string()),
                Value::Null => return Err(format!("variable '{name}' is null")),
                Value::Array(_) | Value::Object(_) => {
                    return Err(format!(
                        "variable '{name}' is a list or map and cannot be part of a longer string"
                    ));
                }
            },
        }
    }
    Ok(Value::String(output))
}

fn unknown(name: &str) -> String {
    format!(
        "unknown variable '${{{name}}}' (not in cluster, environment or fleet vars, nor a built-in)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lookup(name: &str) -> Option<Value> {
        match name {
            "replicas" => Some(json!(3)),
            "region" => Some(json!("eu")),
            _ => None,
        }
    }

    #[test]
    fn substitutes_typed_and_interpolated_values() {
        let mut value = json!({
            "replicas": "${replicas}",
            "host": "web.${region}.example.com",
            "literal": "$${region} costs $5",
        });
        let mut errors = Vec::new();
        substitute(&mut value, "", &lookup, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(value["replicas"], 3);
        assert_eq!(value["host"], "web.eu.example.com");
        assert_eq!(value["literal"], "${region} costs $5");
    }

    #[test]
    fn unknown_variables_are_errors_with_their_pointer() {
        let mut value = json!({"data": {"a": "x-${nosuch}"}});
        let mut errors = Vec::new();
        substitute(&mut value, "", &lookup, &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "/data/a");
        assert!(errors[0].1.contains("nosuch"));
    }

    proptest::proptest! {
        #[test]
        fn any_string_substitutes_or_is_an_error(text in "(\\PC|\\$\\{|\\}|\\$\\$)*") {
            let mut value = json!({"a": [text.clone()], "b": text});
            let mut errors = Vec::new();
            substitute(&mut value, "", &lookup, &mut errors);
            let mut names = BTreeSet::new();
            referenced_variables(&value, &mut names);
        }
    }

    #[test]
    fn lists_referenced_names() {
        let mut names = BTreeSet::new();
        referenced_variables(&json!({"a": ["${x}", "$${y}", "${z}-${x}"]}), &mut names);
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["x", "z"]);
    }
}
