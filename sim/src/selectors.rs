//! Label selectors (`app=web,tier!=db,env in (a,b),!legacy`) and field
//! selectors (`metadata.name=web`) as list and watch accept them.

use serde_json::Value;

/// A selector that could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectorError {
    /// The label selector text is malformed.
    #[error("unable to parse requirement: {0}")]
    Label(String),
    /// The field selector names a field the resource does not support.
    #[error("field label not supported: {0}")]
    UnsupportedField(String),
    /// The field selector text is malformed.
    #[error("invalid field selector: {0}")]
    Field(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed label selector; all requirements must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<LabelRequirement>,
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for character in text.chars() {
        match character {
            '(' => {
                depth += 1;
                current.push(character);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                current.push(character);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ => current.push(character),
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|part| part.trim().to_string())
        .filter(|part| !part.is_empty())
        .collect()
}

fn parse_set(text: &str, original: &str) -> Result<Vec<String>, SelectorError> {
    let inner = text
        .trim()
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(|| SelectorError::Label(original.to_string()))?;
    Ok(inner
        .split(',')
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
        .collect())
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_./".contains(character))
}

impl LabelSelector {
    /// Parses the `labelSelector` query parameter.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for part in split_top_level(text) {
            let requirement = if let Some(key) = part.strip_prefix('!') {
                LabelRequirement::DoesNotExist(key.trim().to_string())
            } else if let Some((key, values)) = part.split_once(" notin ") {
                LabelRequirement::NotIn(key.trim().to_string(), parse_set(values, &part)?)
            } else if let Some((key, values)) = part.split_once(" in ") {
                LabelRequirement::In(key.trim().to_string(), parse_set(values, &part)?)
            } else if let Some((key, value)) = part.split_once("!=") {
                LabelRequirement::NotEquals(key.trim().to_string(), value.trim().to_string())
            } else if let Some((key, value)) = part.split_once("==") {
                LabelRequirement::Equals(key.trim().to_string(), value.trim().to_string())
            } else if let Some((key, value)) = part.split_once('=') {
                LabelRequirement::Equals(key.trim().to_string(), value.trim().to_string())
            } else {
                LabelRequirement::Exists(part.trim().to_string())
            };
            let key = match &requirement {
                LabelRequirement::Equals(key, _)
                | LabelRequirement::NotEquals(key, _)
                | LabelRequirement::In(key, _)
                | LabelRequirement::NotIn(key, _)
                | LabelRequirement::Exists(key)
                | LabelRequirement::DoesNotExist(key) => key,
            };
            if !valid_key(key) {
                return Err(SelectorError::Label(part.clone()));
            }
            requirements.push(requirement);
        }
        Ok(Self { requirements })
    }

    /// Whether the object's labels satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let label = |key: &str| {
            labels
                .and_then(|labels| labels.get(key))
                .and_then(Value::as_str)
        };
        self.requirements
            .iter()
            .all(|requirement| match requirement {
                LabelRequirement::Equals(key, value) => label(key) == Some(value.as_str()),
                LabelRequirement::NotEquals(key, value) => label(key) != Some(value.as_str()),
                LabelRequirement::In(key, values) => {
                    label(key).is_some_and(|actual| values.iter().any(|value| value == actual))
                }
                LabelRequirement::NotIn(key, values) => {
                    label(key).is_none_or(|actual| !values.iter().any(|value| value == actual))
                }
                LabelRequirement::Exists(key) => label(key).is_some(),
                LabelRequirement::DoesNotExist(key) => label(key).is_none(),
            })
    }
}

/// A parsed field selector (`=`, `==`, `!=` on supported fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    requirements: Vec<(String, bool, String)>,
}

/// Fields every resource can be selected on, plus a few per-kind ones the
/// real server supports.
fn supported_field(kind: &str, field: &str) -> bool {
    matches!(field, "metadata.name" | "metadata.namespace")
        || (kind == "Pod"
            && matches!(
                field,
                "spec.nodeName" | "status.phase" | "spec.restartPolicy"
            ))
        || (kind == "Secret" && field == "type")
        || (kind == "Event" && field.starts_with("involvedObject."))
        || (kind == "Event" && matches!(field, "reason" | "type" | "source"))
}

impl FieldSelector {
    /// Parses the `fieldSelector` query parameter for objects of `kind`.
    pub fn parse(text: &str, kind: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        for part in text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let (field, equal, value) = if let Some((field, value)) = part.split_once("!=") {
                (field, false, value)
            } else if let Some((field, value)) = part.split_once("==") {
                (field, true, value)
            } else if let Some((field, value)) = part.split_once('=') {
                (field, true, value)
            } else {
                return Err(SelectorError::Field(part.to_string()));
            };
            let field = field.trim();
            if !supported_field(kind, field) {
                return Err(SelectorError::UnsupportedField(field.to_string()));
            }
            requirements.push((field.to_string(), equal, value.trim().to_string()));
        }
        Ok(Self { requirements })
    }

    /// Whether the object satisfies every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|(field, equal, expected)| {
            let pointer = format!("/{}", field.replace('.', "/"));
            let actual = object
                .pointer(&pointer)
                .and_then(Value::as_str)
                .unwrap_or("");
            (actual == expected) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selector_operators() {
        let object = json!({"metadata": {"labels": {"app": "web", "env": "prod"}}});
        let cases = [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("env in (prod, staging)", true),
            ("env notin (prod)", false),
            ("app,!legacy", true),
            ("legacy", false),
            ("app=web,env in (dev)", false),
            ("", true),
        ];
        for (selector, expected) in cases {
            assert_eq!(
                LabelSelector::parse(selector).unwrap().matches(&object),
                expected,
                "{selector}"
            );
        }
        assert!(LabelSelector::parse("a in b").is_err());
    }

    #[test]
    fn field_selector_on_name_and_unsupported_fields() {
        let object = json!({"metadata": {"name": "web", "namespace": "default"}});
        assert!(
            FieldSelector::parse("metadata.name=web", "ConfigMap")
                .unwrap()
                .matches(&object)
        );
        assert!(
            !FieldSelector::parse("metadata.namespace!=default", "ConfigMap")
                .unwrap()
                .matches(&object)
        );
        assert_eq!(
            FieldSelector::parse("spec.foo=x", "ConfigMap"),
            Err(SelectorError::UnsupportedField("spec.foo".into()))
        );
    }
}
