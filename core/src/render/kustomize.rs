//! Kustomize builds of apps that ship a `kustomization.yaml`.
//!
//! The snapshot is exported once per revision to a temporary directory (so
//! `../../base` resolves) and `kustomize build` or `kubectl kustomize` runs on
//! the app's folder. Before any build, every path the kustomizations name is
//! checked to stay inside the repository and remote resources are refused:
//! a render must be a pure function of the Git tree, and nothing outside the
//! repository may be read.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{Snapshot, normalize_within};
use crate::yaml::{YamlDocument, parse_single};

/// Environment variable naming the Kustomize command to run (e.g.
/// `kustomize build` or `kubectl kustomize`); by default `kustomize build`
/// if `kustomize` is on PATH, else `kubectl kustomize`.
pub const KUSTOMIZE_ENV: &str = "FLEET_KUSTOMIZE";

/// File names Kustomize accepts for a kustomization.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Fields of a kustomization that hold paths (lists of strings).
const PATH_LIST_FIELDS: [&str; 8] = [
    "resources",
    "components",
    "bases",
    "crds",
    "configurations",
    "generators",
    "transformers",
    "patchesStrategicMerge",
];

/// Fields of a kustomization that hold lists of objects with a `path`.
const PATH_OBJECT_FIELDS: [&str; 3] = ["patches", "patchesJson6902", "replacements"];

/// The kustomization file in `folder`, if it has one.
pub fn kustomization_in(snapshot: &Snapshot, folder: &str) -> Option<String> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|name| format!("{folder}/{name}"))
        .find(|path| snapshot.contains(path))
}

/// Checks every path reachable from the kustomization in `folder`.
pub fn check_references(snapshot: &Snapshot, folder: &str) -> Result<(), Diagnostics> {
    let mut problems = Diagnostics::new();
    let mut visited = Vec::new();
    check_folder(snapshot, folder, &mut visited, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn check_folder(
    snapshot: &Snapshot,
    folder: &str,
    visited: &mut Vec<String>,
    problems: &mut Diagnostics,
) {
    if visited.iter().any(|seen| seen == folder) {
        return;
    }
    visited.push(folder.to_owned());
    let Some(path) = kustomization_in(snapshot, folder) else {
        return;
    };
    let document = match snapshot.read_text(&path) {
        Ok(Some(text)) => match parse_single(&path, text) {
            Ok(document) => document,
            Err(error) => return problems.push(error.into()),
        },
        Ok(None) => return,
        Err(error) => return problems.push(Diagnostic::from_source_error(&error)),
    };
    if document.value.get("helmCharts").is_some() || document.value.get("helmGlobals").is_some() {
        problems.push(Diagnostic::in_document(
            &document,
            "/helmCharts",
            "helmCharts are not supported: they fetch charts from outside the repository",
        ));
    }
    for (pointer, reference) in path_references(&document.value) {
        // `key=path` entries of generators name a file after the `=`.
        let reference = reference
            .rsplit_once('=')
            .map_or(reference.as_str(), |(_, file)| file);
        if reference.contains('\n') {
            continue; // an inline patch, not a path
        }
        if reference.contains("://")
            || reference.starts_with("git@")
            || reference.starts_with("github.com/")
        {
            problems.push(Diagnostic::in_document(
                &document,
                &pointer,
                format!("remote resource '{reference}' refused: everything must come from the fleet repository"),
            ));
            continue;
        }
        match normalize_within(folder, reference) {
            None => problems.push(Diagnostic::in_document(
                &document,
                &pointer,
                format!("path '{reference}' leaves the repository (refused)"),
            )),
            Some(target) => check_folder(snapshot, &target, visited, problems),
        }
    }
}

/// Every string in the kustomization that names a path, with its pointer.
fn path_references(kustomization: &Value) -> Vec<(String, String)> {
    let mut references = Vec::new();
    let mut push = |pointer: String, value: &Value| {
        if let Some(text) = value.as_str() {
            references.push((pointer, text.to_owned()));
        }
    };
    for field in PATH_LIST_FIELDS {
        for (index, item) in list(kustomization, field).iter().enumerate() {
            push(format!("/{field}/{index}"), item);
        }
    }
    for field in PATH_OBJECT_FIELDS {
        for (index, item) in list(kustomization, field).iter().enumerate() {
            if let Some(path) = item.get("path") {
                push(format!("/{field}/{index}/path"), path);
            }
        }
    }
    for field in ["configMapGenerator", "secretGenerator"] {
        for (index, generator) in list(kustomization, field).iter().enumerate() {
            for key in ["files", "envs"] {
                for (file_index, file) in list(generator, key).iter().enumerate() {
                    push(format!("/{field}/{index}/{key}/{file_index}"), file);
                }
            }
            if let Some(env) = generator.get("env") {
                push(format!("/{field}/{index}/env"), env);
            }
        }
    }
    if let Some(path) = kustomization.pointer("/openapi/path") {
        push("/openapi/path".to_owned(), path);
    }
    references
}

fn list<'a>(value: &'a Value, field: &str) -> &'a [Value] {
    value
        .get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The command that runs Kustomize, found once per process.
fn kustomize_command() -> Result<&'static Vec<String>, String> {
    static COMMAND: OnceLock<Result<Vec<String>, String>> = OnceLock::new();
    COMMAND
        .get_or_init(|| {
            if let Ok(configured) = std::env::var(KUSTOMIZE_ENV) {
                let words: Vec<String> = configured.split_whitespace().map(str::to_owned).collect();
                if !words.is_empty() {
                    return Ok(words);
                }
            }
            let candidates = [
                (["kustomize", "build"], ["version", ""]),
                (["kubectl", "kustomize"], ["version", "--client"]),
            ];
            for (candidate, probe) in candidates {
                let found = Command::new(candidate[0])
                    .args(probe.iter().filter(|word| !word.is_empty()))
                    .output()
                    .is_ok_and(|output| output.status.success());
                if found {
                    return Ok(candidate.iter().map(|word| (*word).to_owned()).collect());
                }
            }
            Err(
                "neither 'kustomize' nor 'kubectl' was found on PATH; install one to render \
                 Kustomize apps (or set FLEET_KUSTOMIZE)"
                    .to_owned(),
            )
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Runs Kustomize on `folder` of the exported tree at `export_root` and
/// parses its output.
pub fn build(
    export_root: &Path,
    folder: &str,
    kustomization: &str,
) -> Result<Vec<YamlDocument>, Diagnostic> {
    let command =
        kustomize_command().map_err(|message| Diagnostic::at(kustomization, 1, message))?;
    let target = export_root.join(folder);
    let output = Command::new(&command[0])
        .args(&command[1..])
        .arg(&target)
        .output()
        .map_err(|error| {
            Diagnostic::at(
                kustomization,
                1,
                format!("running {}: {error}", command.join(" ")),
            )
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let root = format!("{}/", export_root.display());
        let mut message = stderr.replace(&root, "").trim().to_owned();
        // kubectl wraps kustomize's error in a klog line: keep the error itself.
        if let Some((_, error)) = message.split_once(" err=\"") {
            message = error.trim_end_matches('"').replace("\\\"", "\"");
        }
        return Err(Diagnostic::at(
            kustomization,
            1,
            format!("kustomize build of {folder} failed: {message}"),
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    crate::yaml::parse_documents(kustomization, &stdout).map_err(|error| {
        Diagnostic::at(
            kustomization,
            1,
            format!(
                "kustomize build of {folder} printed invalid YAML: {}",
                error.message
            ),
        )
    })
}
