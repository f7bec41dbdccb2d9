//! Kubernetes-style label selectors: `matchLabels` and `matchExpressions`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A label selector; an empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    /// Labels that must be present with exactly these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Further requirements, all of which must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// How the label is compared.
    pub operator: Operator,
    /// Values for `In` / `NotIn`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// The operators Kubernetes label selectors support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    /// The label's value is one of `values`.
    In,
    /// The label is absent or its value is none of `values`.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

impl LabelSelector {
    /// Whether `labels` satisfy the selector.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value))
            && self
                .match_expressions
                .iter()
                .all(|requirement| requirement.matches(labels))
    }

    /// Checks that every requirement is well-formed; on failure returns the
    /// index of the bad requirement and what is wrong with it.
    pub fn check(&self) -> Result<(), (usize, String)> {
        for (index, requirement) in self.match_expressions.iter().enumerate() {
            let has_values = !requirement.values.is_empty();
            match requirement.operator {
                Operator::In | Operator::NotIn if !has_values => {
                    return Err((
                        index,
                        format!(
                            "operator {:?} on '{}' needs at least one value",
                            requirement.operator, requirement.key
                        ),
                    ));
                }
                Operator::Exists | Operator::DoesNotExist if has_values => {
                    return Err((
                        index,
                        format!(
                            "operator {:?} on '{}' takes no values",
                            requirement.operator, requirement.key
                        ),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|value| self.values.contains(value)),
            Operator::NotIn => value.is_none_or(|value| !self.values.contains(value)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn match_labels_and_expressions_combine() {
        let selector: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchLabels": {"env": "prod"},
            "matchExpressions": [
                {"key": "region", "operator": "In", "values": ["eu", "us"]},
                {"key": "tier", "operator": "NotIn", "values": ["canary"]},
                {"key": "gpu", "operator": "DoesNotExist"},
            ]
        }))
        .unwrap();
        assert!(selector.matches(&labels(&[("env", "prod"), ("region", "eu")])));
        assert!(!selector.matches(&labels(&[
            ("env", "prod"),
            ("region", "eu"),
            ("tier", "canary")
        ])));
        assert!(!selector.matches(&labels(&[("env", "prod"), ("region", "ap")])));
        assert!(!selector.matches(&labels(&[
            ("env", "prod"),
            ("region", "eu"),
            ("gpu", "a100")
        ])));
        assert!(LabelSelector::default().matches(&labels(&[])));
    }

    #[test]
    fn malformed_requirements_are_reported() {
        let selector: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchExpressions": [{"key": "env", "operator": "In"}]
        }))
        .unwrap();
        assert_eq!(selector.check().unwrap_err().0, 0);
        let unknown = serde_json::from_value::<LabelSelector>(serde_json::json!({
            "matchExpressions": [{"key": "env", "operator": "Equals", "values": ["a"]}]
        }));
        assert!(unknown.is_err());
    }
}
