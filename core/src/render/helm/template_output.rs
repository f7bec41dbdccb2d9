//! Reading what `helm template` prints: documents under `# Source:` headers,
//! and Helm's error messages, both mapped back to files a user can open.
//!
//! Helm names files `<chart name>/templates/<file>` (subcharts
//! `<chart>/charts/<sub>/templates/<file>`); fleet shows them under the
//! chart's place: `apps/<app>/<chart dir>/templates/<file>` for an in-repo
//! chart, `<repository>/<chart>-<version>/templates/<file>` for a fetched one.

use super::super::object::{Origin, SourceObject};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::yaml::parse_documents;

/// The header Helm puts before each document.
const SOURCE_HEADER: &str = "# Source: ";

/// `helm_path` (`<chart name>/rest`) under `chart_root`.
pub fn chart_file(chart_root: &str, helm_path: &str) -> String {
    match helm_path.split_once('/') {
        Some((_, rest)) => format!("{chart_root}/{rest}"),
        None => format!("{chart_root}/{helm_path}"),
    }
}

/// The objects `helm template` printed, each with the chart file it came
/// from (the line is the line within that file's rendered output).
pub fn parse(stdout: &str, chart_root: &str) -> Result<Vec<SourceObject>, Diagnostics> {
    let mut chunks: Vec<(String, String)> = Vec::new();
    let mut previous_was_separator = false;
    for line in stdout.lines() {
        if previous_was_separator && let Some(path) = line.strip_prefix(SOURCE_HEADER) {
            chunks.push((chart_file(chart_root, path.trim()), String::new()));
            previous_was_separator = false;
            continue;
        }
        if previous_was_separator && let Some((_, text)) = chunks.last_mut() {
            text.push_str("---\n");
        }
        previous_was_separator = line.trim_end() == "---";
        if previous_was_separator {
            continue;
        }
        match chunks.last_mut() {
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None if line.trim().is_empty() => {}
            None => chunks.push((format!("{chart_root}/(helm output)"), format!("{line}\n"))),
        }
    }
    let mut objects = Vec::new();
    let mut problems = Diagnostics::new();
    for (file, text) in &chunks {
        match parse_documents(file, text) {
            Ok(documents) => objects.extend(documents.iter().map(|document| SourceObject {
                value: document.value.clone(),
                origin: Origin::of_document(document),
                patches: Vec::new(),
            })),
            Err(error) => problems.push(error.into()),
        }
    }
    if problems.is_empty() {
        Ok(objects)
    } else {
        Err(problems)
    }
}

/// A Helm failure as a diagnostic: at the template file and line Helm
/// names (`<chart>/templates/x.yaml:12:3`), else at `fallback`.
pub fn failure(stderr: &str, chart_root: &str, fallback: Diagnostic) -> Diagnostic {
    let message: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let message = message.join(" ");
    let message = message
        .strip_prefix("Error: ")
        .unwrap_or(&message)
        .to_owned();
    let located = message.split_whitespace().find_map(|word| {
        let word = word.trim_end_matches(':');
        let mut parts = word.split(':');
        let path = parts.next()?;
        let line: u64 = parts.next()?.parse().ok()?;
        path.contains('/')
            .then(|| (chart_file(chart_root, path), line))
    });
    let message = format!("helm template failed: {message}");
    match located {
        Some((file, line)) => Diagnostic::at(file, line, message),
        None => Diagnostic {
            message,
            ..fallback
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_the_chart_file_they_came_from() {
        let stdout = "---\n# Source: demo/crds/widget.yaml\nkind: CustomResourceDefinition\n\
                      ---\n# Source: demo/templates/all.yaml\nkind: A\nmetadata:\n  name: a\n---\nkind: B\n";
        let objects = parse(stdout, "apps/web/chart").unwrap();
        let origins: Vec<(&str, &str)> = objects
            .iter()
            .map(|object| {
                (
                    object.value["kind"].as_str().unwrap(),
                    object.origin.file.as_str(),
                )
            })
            .collect();
        assert_eq!(
            origins,
            [
                (
                    "CustomResourceDefinition",
                    "apps/web/chart/crds/widget.yaml"
                ),
                ("A", "apps/web/chart/templates/all.yaml"),
                ("B", "apps/web/chart/templates/all.yaml"),
            ]
        );
    }

    #[test]
    fn a_template_error_points_at_the_template_file_and_line() {
        let stderr = "Error: template: demo/templates/bad.yaml:6:15 executing \
                      \"demo/templates/bad.yaml\" at <.Values.x.y>: nil pointer\n";
        let fallback = Diagnostic::at("apps/web/app.yaml", 3, "");
        let diagnostic = failure(stderr, "apps/web/chart", fallback);
        assert_eq!(
            diagnostic.file.as_deref(),
            Some("apps/web/chart/templates/bad.yaml")
        );
        assert_eq!(diagnostic.line, Some(6));
        assert!(
            diagnostic
                .message
                .starts_with("helm template failed: template: demo/templates/bad.yaml:6:15"),
            "{}",
            diagnostic.message
        );
        let other = failure(
            "Error: something else\n",
            "apps/web/chart",
            Diagnostic::at("apps/web/app.yaml", 3, ""),
        );
        assert_eq!(other.file.as_deref(), Some("apps/web/app.yaml"));
        assert_eq!(other.message, "helm template failed: something else");
    }
}
