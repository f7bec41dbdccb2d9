//! Errors found in a fleet repository, each pointing at a file and line.
//!
//! Validation does not stop at the first problem: loaders and renderers
//! collect [`Diagnostic`]s so that `fleetctl validate` can show every error
//! of a commit at once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::yaml::{YamlDocument, YamlError};

/// One problem in the fleet repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Repository-relative file the problem is in, when it is in one.
    pub file: Option<String>,
    /// 1-based line in `file`.
    pub line: Option<u64>,
    /// The cluster being rendered, when the problem is cluster-specific.
    pub cluster: Option<String>,
    /// The app being rendered, when the problem is app-specific.
    pub app: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Diagnostic {
    /// A problem not tied to a file (e.g. a revision that does not exist).
    pub fn general(message: impl Into<String>) -> Self {
        Self {
            file: None,
            line: None,
            cluster: None,
            app: None,
            message: message.into(),
        }
    }

    /// A problem at `file:line`.
    pub fn at(file: impl Into<String>, line: u64, message: impl Into<String>) -> Self {
        Self {
            file: Some(file.into()),
            line: Some(line),
            cluster: None,
            app: None,
            message: message.into(),
        }
    }

    /// A problem at the value `pointer` of a parsed document.
    pub fn in_document(document: &YamlDocument, pointer: &str, message: impl Into<String>) -> Self {
        Self::at(document.file.clone(), document.line_of(pointer), message)
    }

    /// Names the cluster the problem was found for.
    #[must_use]
    pub fn for_cluster(mut self, cluster: &str) -> Self {
        self.cluster = Some(cluster.to_owned());
        self
    }

    /// Names the app the problem was found in.
    #[must_use]
    pub fn for_app(mut self, app: &str) -> Self {
        self.app = Some(app.to_owned());
        self
    }

    /// `file:line` (or just `file`), if the problem is in a file.
    pub fn location(&self) -> Option<String> {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => Some(format!("{file}:{line}")),
            (Some(file), None) => Some(file.clone()),
            _ => None,
        }
    }
}

impl From<YamlError> for Diagnostic {
    fn from(error: YamlError) -> Self {
        Self::at(
            error.file,
            error.line,
            format!("invalid YAML: {}", error.message),
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = self.location() {
            write!(formatter, "{location}: ")?;
        }
        formatter.write_str(&self.message)?;
        match (&self.cluster, &self.app) {
            (Some(cluster), Some(app)) => write!(formatter, " (cluster {cluster}, app {app})"),
            (Some(cluster), None) => write!(formatter, " (cluster {cluster})"),
            (None, Some(app)) => write!(formatter, " (app {app})"),
            (None, None) => Ok(()),
        }
    }
}

/// Several problems, reported together.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// No problems yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one problem.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorts by file and line and drops exact repeats (the same problem found
    /// for many clusters is shown once per cluster, not once per render).
    pub fn sorted(mut self) -> Self {
        self.0.sort_by(|a, b| {
            (&a.file, a.line, &a.cluster, &a.app, &a.message)
                .cmp(&(&b.file, b.line, &b.cluster, &b.app, &b.message))
        });
        self.0.dedup();
        self
    }
}

impl Diagnostics {
    /// The problems with repeats merged: one entry per (file, line, message),
    /// listing every cluster and app it was found for, sorted by file and line.
    /// One bad file in a kustomization shared by eight clusters is one entry.
    pub fn grouped(&self) -> Vec<GroupedDiagnostic> {
        type Places = (BTreeSet<String>, BTreeSet<String>);
        let mut groups: BTreeMap<(Option<&str>, Option<u64>, &str), Places> = BTreeMap::new();
        for diagnostic in &self.0 {
            let (clusters, apps) = groups
                .entry((
                    diagnostic.file.as_deref(),
                    diagnostic.line,
                    diagnostic.message.as_str(),
                ))
                .or_default();
            clusters.extend(diagnostic.cluster.clone());
            apps.extend(diagnostic.app.clone());
        }
        groups
            .into_iter()
            .map(
                |((file, line, message), (clusters, apps))| GroupedDiagnostic {
                    file: file.map(str::to_owned),
                    line,
                    message: message.to_owned(),
                    clusters: clusters.into_iter().collect(),
                    apps: apps.into_iter().collect(),
                },
            )
            .collect()
    }
}

/// How many cluster names one grouped problem shows before "and N more".
const SHOWN_CLUSTERS: usize = 10;

/// One problem, shown once with every cluster and app it was found for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupedDiagnostic {
    /// Repository-relative file the problem is in, when it is in one.
    pub file: Option<String>,
    /// 1-based line in `file`.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
    /// The clusters it was found for, sorted (empty when not cluster-specific).
    pub clusters: Vec<String>,
    /// The apps it was found in, sorted (empty when not app-specific).
    pub apps: Vec<String>,
}

impl fmt::Display for GroupedDiagnostic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(formatter, "{file}:{line}: ")?,
            (Some(file), None) => write!(formatter, "{file}: ")?,
            _ => {}
        }
        formatter.write_str(&self.message)?;
        let mut parts = Vec::new();
        if !self.clusters.is_empty() {
            parts.push(names("cluster", "clusters", &self.clusters, SHOWN_CLUSTERS));
        }
        if !self.apps.is_empty() {
            parts.push(names("app", "apps", &self.apps, usize::MAX));
        }
        if parts.is_empty() {
            return Ok(());
        }
        let separator = if self.clusters.len() > 1 || self.apps.len() > 1 {
            "; "
        } else {
            ", "
        };
        write!(formatter, " ({})", parts.join(separator))
    }
}

/// `cluster a` or `clusters a, b and 3 more`.
fn names(singular: &str, plural: &str, names: &[String], shown: usize) -> String {
    if let [only] = names {
        return format!("{singular} {only}");
    }
    let mut text = format!("{plural} {}", names[..names.len().min(shown)].join(", "));
    if names.len() > shown {
        text.push_str(&format!(" and {} more", names.len() - shown));
    }
    text
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Self(vec![diagnostic])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(formatter)?;
            }
            write!(formatter, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl Diagnostic {
    /// A problem reading the repository, at the file it concerns when known.
    pub fn from_source_error(error: &crate::source::SourceError) -> Self {
        use crate::source::SourceError;
        match error {
            SourceError::SymlinkEscapes { path, target } => Self::at(
                path.clone(),
                1,
                format!("symlink to '{target}' leaves the repository (refused)"),
            ),
            SourceError::NotText { path } => Self::at(path.clone(), 1, "not UTF-8 text"),
            SourceError::DanglingSymlink { path } => Self::at(
                path.clone(),
                1,
                "symlink does not resolve to a file in the repository",
            ),
            SourceError::UnsafeEntryName { path, reason } => Self::at(
                path.clone(),
                1,
                format!(
                    "tree entry name {reason} (refused: every entry must be one plain path component)"
                ),
            ),
            SourceError::FileTooLarge { path, size, limit } => Self::at(
                path.clone(),
                1,
                format!("file is {size} bytes, over the limit of {limit} bytes per file (refused)"),
            ),
            SourceError::RevisionTooLarge { path, limit } => Self::at(
                path.clone(),
                1,
                format!(
                    "reading this file takes the revision over the limit of {limit} bytes of files (refused)"
                ),
            ),
            SourceError::ExportEscapes { path } => Self::at(
                path.clone(),
                1,
                "path leaves the export directory (refused)",
            ),
            other => Self::general(error_chain(other)),
        }
    }
}

/// An error and its causes on one line (`a: b: c`).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_problem_found_for_many_clusters_is_shown_once() {
        let problem = |cluster: &str, app: &str| {
            Diagnostic::at(
                "apps/api/base/kustomization.yaml",
                5,
                "remote resource refused",
            )
            .for_cluster(cluster)
            .for_app(app)
        };
        let diagnostics = Diagnostics(vec![
            problem("prod-2", "api"),
            problem("prod-1", "api"),
            problem("prod-1", "api"),
            Diagnostic::at("fleet.yaml", 3, "bad").for_cluster("prod-1"),
            problem("dev-1", "api"),
        ]);
        let shown: Vec<String> = diagnostics
            .grouped()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "apps/api/base/kustomization.yaml:5: remote resource refused (clusters dev-1, prod-1, prod-2; app api)",
                "fleet.yaml:3: bad (cluster prod-1)",
            ]
        );
        let many = Diagnostics(
            (0..12)
                .map(|index| problem(&format!("c{index:02}"), "api"))
                .collect(),
        );
        let shown = many.grouped()[0].to_string();
        assert!(shown.ends_with("c08, c09 and 2 more; app api)"), "{shown}");
    }
}
