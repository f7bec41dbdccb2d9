//! Parsed YAML documents that remember where each value came from.

use std::collections::HashMap;

use serde_json::Value;
use serde_saphyr::Spanned;

use super::node::{Node, NonScalarKey};

/// A YAML syntax error in a file, with the line where parsing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: invalid YAML: {message}")]
pub struct YamlError {
    /// Repository-relative path of the file.
    pub file: String,
    /// 1-based line of the failure (1 when the parser gave none).
    pub line: u64,
    /// What the parser said.
    pub message: String,
}

/// Lines of the values of one document, by JSON pointer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineIndex {
    lines: HashMap<String, u64>,
}

impl LineIndex {
    pub(crate) fn insert(&mut self, pointer: String, line: u64) {
        self.lines.insert(pointer, line);
    }

    /// Whether `pointer` itself (not just an ancestor) has a recorded line.
    pub fn contains(&self, pointer: &str) -> bool {
        self.lines.contains_key(pointer)
    }

    /// The line of `pointer`, or of its nearest ancestor that has one.
    pub fn line_of(&self, pointer: &str) -> Option<u64> {
        let mut current = pointer;
        loop {
            if let Some(line) = self.lines.get(current) {
                return Some(*line);
            }
            match current.rfind('/') {
                Some(position) => current = &current[..position],
                None => return None,
            }
        }
    }
}

/// One YAML document of a file: its value and where its parts are.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlDocument {
    /// Repository-relative path of the file the document is in.
    pub file: String,
    /// Line of the document's first node.
    pub line: u64,
    /// The document's content.
    pub value: Value,
    /// Lines of the values inside the document.
    pub lines: LineIndex,
}

impl YamlDocument {
    /// The line of the value at `pointer` (falls back to the document's line).
    pub fn line_of(&self, pointer: &str) -> u64 {
        self.lines.line_of(pointer).unwrap_or(self.line)
    }

    /// `file:line` of the value at `pointer`.
    pub fn location(&self, pointer: &str) -> String {
        format!("{}:{}", self.file, self.line_of(pointer))
    }
}

fn options() -> serde_saphyr::Options {
    // Kubernetes manifests write file modes as YAML 1.1 octals (`0644`), but
    // `y`, `no` or `on` stay strings (YAML 1.2 booleans): a ConfigMap value or
    // a country code must not silently turn into a boolean.
    serde_saphyr::options! { legacy_octal_numbers: true, strict_booleans: true }
}

/// Parses every non-empty document of a (multi-document) YAML file.
pub fn parse_documents(file: &str, text: &str) -> Result<Vec<YamlDocument>, YamlError> {
    let roots: Vec<Spanned<Node>> = serde_saphyr::from_multiple_with_options(text, options())
        .map_err(|error| yaml_error(file, &error))?;
    let mut documents = Vec::new();
    for root in roots {
        if matches!(root.value, Node::Null) {
            continue;
        }
        let line = root.referenced.line().max(1);
        let mut lines = LineIndex::default();
        lines.insert(String::new(), line);
        let value = root
            .value
            .into_value("", &mut lines)
            .map_err(|key| YamlError {
                file: file.to_owned(),
                line: key.line,
                message: NonScalarKey::MESSAGE.to_owned(),
            })?;
        documents.push(YamlDocument {
            file: file.to_owned(),
            line,
            value,
            lines,
        });
    }
    Ok(documents)
}

/// Parses a file that must hold exactly one document.
pub fn parse_single(file: &str, text: &str) -> Result<YamlDocument, YamlError> {
    let mut documents = parse_documents(file, text)?;
    match documents.len() {
        1 => Ok(documents.remove(0)),
        0 => Err(YamlError {
            file: file.to_owned(),
            line: 1,
            message: "the file is empty; expected one document".to_owned(),
        }),
        count => Err(YamlError {
            file: file.to_owned(),
            line: documents[1].line,
            message: format!("expected one document, found {count}"),
        }),
    }
}

fn yaml_error(file: &str, error: &serde_saphyr::Error) -> YamlError {
    let line = error
        .location()
        .map(|location| location.line())
        .unwrap_or(0);
    let full = error.to_string();
    // The parser's own text repeats the position; keep its first line.
    let first = full.lines().next().unwrap_or("").trim();
    // Drop the parser's own "error: line L column C:" prefix; we say file:line.
    let message = first
        .strip_prefix("error: ")
        .unwrap_or(first)
        .split_once(": ")
        .filter(|(position, _)| position.starts_with("line "))
        .map_or(first, |(_, rest)| rest);
    // Advice about parser options is for us, not for the fleet's authors.
    let message = message
        .split_once(", set DuplicateKeyPolicy")
        .map_or(message, |(kept, _)| kept)
        .to_owned();
    YamlError {
        file: file.to_owned(),
        line: line.max(1),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_lines_of_nested_values() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  items:\n    - x\n    - y\n";
        let documents = parse_documents("a.yaml", text).unwrap();
        assert_eq!(documents.len(), 1);
        let document = &documents[0];
        assert_eq!(document.line, 1);
        assert_eq!(document.line_of("/metadata/name"), 4);
        assert_eq!(document.line_of("/data/items/1"), 8);
        assert_eq!(document.line_of("/data/items/1/missing"), 8);
        assert_eq!(document.value["data"]["items"][1], "y");
    }

    #[test]
    fn splits_documents_and_skips_empty_ones() {
        let text = "---\na: 1\n---\n---\nb: 0644\n";
        let documents = parse_documents("m.yaml", text).unwrap();
        assert_eq!(documents.len(), 2);
        assert_eq!(documents[1].line, 5);
        assert_eq!(documents[1].value["b"], 420);
    }

    #[test]
    fn a_mapping_or_list_used_as_a_key_is_refused_with_its_line() {
        for text in ["a: 1\nimage: {{ .x }}\n", "a: 1\nb:\n  ? [1, 2]\n  : x\n"] {
            let error = parse_documents("t.yaml", text).unwrap_err();
            assert!(
                error.message.starts_with("non-scalar mapping key"),
                "{error}"
            );
            assert!((2..=3).contains(&error.line), "{text:?}: {error}");
        }
        let error = parse_documents("t.yaml", "a: 1\nimage: {{ .x }}\n").unwrap_err();
        assert_eq!(error.line, 2, "{error}");
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_is_an_error_with_a_line(text in "\\PC*") {
            if let Err(error) = parse_documents("t.yaml", &text) {
                proptest::prop_assert!(error.line >= 1);
            }
        }

        #[test]
        fn yaml_like_text_parses_or_is_an_error_with_a_line(
            text in "([a-z{}\\[\\]:,?&*!|>'\"#-]|  |\n| ){0,80}"
        ) {
            if let Err(error) = parse_documents("t.yaml", &text) {
                proptest::prop_assert!(error.line >= 1);
            }
        }
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let error = parse_documents("bad.yaml", "a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert_eq!(error.file, "bad.yaml");
        assert!(error.line >= 2, "{error}");
    }
}
