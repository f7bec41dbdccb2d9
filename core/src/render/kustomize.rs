//! Kustomize builds of apps that ship a `kustomization.yaml`.
//!
//! The snapshot is exported once per revision to a temporary directory (so
//! `../../base` resolves) and `kustomize build` or `kubectl kustomize` runs on
//! the app's folder. Before any build, every path the kustomizations name
//! must pass a positive rule — a relative path of plain characters naming a
//! file or folder of the repository tree — and anything else (URLs, Git
//! remotes, `?ref=` queries) is refused as a remote resource: a render must
//! be a pure function of the Git tree, and nothing outside the repository may
//! be read or fetched. Kustomize itself runs through
//! [`super::external_command`] (cleared environment, timeout, capped output).

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use super::external_command::ExternalCommand;
use super::settings::RenderSettings;
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
    for (pointer, reference, generator_file) in path_references(&document.value) {
        // `key=path` entries of generator `files` name a file after the `=`.
        let reference = if generator_file {
            reference
                .split_once('=')
                .map_or(reference.as_str(), |(_, file)| file)
        } else {
            reference.as_str()
        };
        if reference.contains('\n') {
            continue; // an inline patch, not a path
        }
        match resolve_reference(snapshot, folder, reference) {
            Ok(Target::Folder(target)) => check_folder(snapshot, &target, visited, problems),
            Ok(Target::File) => {}
            Err(message) => problems.push(Diagnostic::in_document(&document, &pointer, message)),
        }
    }
}

/// What a kustomization reference names in the repository.
enum Target {
    /// A file.
    File,
    /// A folder (which may hold a kustomization of its own).
    Folder(String),
}

/// The positive rule for a path in a kustomization: it is a relative path
/// of plain characters naming a file or folder of the repository tree.
/// Everything else (URLs, `git@host:`, `user@host:`, go-getter `git::`,
/// `?ref=` queries, `//` subpaths, host-like first components) is refused
/// before Kustomize runs, so Kustomize never fetches anything.
fn resolve_reference(snapshot: &Snapshot, folder: &str, reference: &str) -> Result<Target, String> {
    let remote = || {
        format!(
            "remote resource '{reference}' refused: only relative paths inside the fleet \
             repository are allowed"
        )
    };
    if reference.starts_with('/') {
        return Err(format!(
            "path '{reference}' leaves the repository (refused)"
        ));
    }
    let plain = reference
        .chars()
        .all(|character| character.is_ascii_alphanumeric() || "._-/+~".contains(character));
    if !plain || reference.contains("//") || reference.is_empty() {
        return Err(remote());
    }
    let Some(target) = normalize_within(folder, reference) else {
        return Err(format!(
            "path '{reference}' leaves the repository (refused)"
        ));
    };
    if target.is_empty() || snapshot.contains(&target) {
        return Ok(if target.is_empty() {
            Target::Folder(target)
        } else {
            Target::File
        });
    }
    let is_folder =
        !snapshot.files_in(&target).is_empty() || !snapshot.directories_in(&target).is_empty();
    // Kustomize reads a folder reference such as `github.com/o/r` as a
    // repository to clone before it looks on disk.
    let first = reference.split('/').next().unwrap_or_default();
    let host_like = first.contains('.') && first != "." && first != ".." && reference.contains('/');
    match (is_folder, host_like) {
        (true, false) => Ok(Target::Folder(target)),
        (true, true) => Err(format!(
            "remote resource '{reference}' refused: Kustomize would read it as a URL (write './{reference}' for the folder)"
        )),
        (false, true) => Err(remote()),
        (false, false) => Err(format!(
            "path '{reference}' is not a file or folder of the fleet repository (refused)"
        )),
    }
}

/// Every string in the kustomization that names a path, with its pointer
/// and whether it is a generator `files` entry (`key=path`).
fn path_references(kustomization: &Value) -> Vec<(String, String, bool)> {
    let mut references = Vec::new();
    let mut push = |pointer: String, value: &Value, generator_file: bool| {
        if let Some(text) = value.as_str() {
            references.push((pointer, text.to_owned(), generator_file));
        }
    };
    for field in PATH_LIST_FIELDS {
        for (index, item) in list(kustomization, field).iter().enumerate() {
            push(format!("/{field}/{index}"), item, false);
        }
    }
    for field in PATH_OBJECT_FIELDS {
        for (index, item) in list(kustomization, field).iter().enumerate() {
            if let Some(path) = item.get("path") {
                push(format!("/{field}/{index}/path"), path, false);
            }
        }
    }
    for field in ["configMapGenerator", "secretGenerator"] {
        for (index, generator) in list(kustomization, field).iter().enumerate() {
            for key in ["files", "envs"] {
                for (file_index, file) in list(generator, key).iter().enumerate() {
                    push(
                        format!("/{field}/{index}/{key}/{file_index}"),
                        file,
                        key == "files",
                    );
                }
            }
            if let Some(env) = generator.get("env") {
                push(format!("/{field}/{index}/env"), env, false);
            }
        }
    }
    if let Some(path) = kustomization.pointer("/openapi/path") {
        push("/openapi/path".to_owned(), path, false);
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
/// parses its output. Kustomize runs with a cleared environment, in its own
/// process group, killed when `settings.kustomize_timeout` passes.
pub fn build(
    export_root: &Path,
    folder: &str,
    kustomization: &str,
    settings: &RenderSettings,
) -> Result<Vec<YamlDocument>, Diagnostic> {
    let command =
        kustomize_command().map_err(|message| Diagnostic::at(kustomization, 1, message))?;
    let target = export_root.join(folder);
    let output = ExternalCommand {
        words: command,
        timeout: settings.kustomize_timeout,
        output_limit: settings.limits.max_revision_bytes,
    }
    .run(&target)
    .map_err(|error| {
        Diagnostic::at(
            kustomization,
            1,
            format!("kustomize build of {folder} failed: {error}"),
        )
    })?;
    if !output.success {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::source::Entry;

    fn snapshot_with(kustomization: &str) -> Snapshot {
        let file = |text: &str| Entry::File(Arc::from(text.as_bytes()));
        Snapshot::from_entries(
            [
                ("app/kustomization.yaml".to_owned(), file(kustomization)),
                ("app/local.yaml".to_owned(), file("kind: ConfigMap\n")),
                ("app/config.env".to_owned(), file("A=1\n")),
                (
                    "shared/base/kustomization.yaml".to_owned(),
                    file("resources: []\n"),
                ),
                ("app/github.com/o/r/base/x.yaml".to_owned(), file("a: 1\n")),
            ],
            None,
            "test",
        )
    }

    fn refusal(kustomization: &str) -> String {
        check_references(&snapshot_with(kustomization), "app")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn remote_references_are_refused_with_file_and_line() {
        for reference in [
            "https://github.com/o/r//base?ref=v1",
            "git::https://github.com/o/r//base",
            "git@github.com:o/r.git",
            "ssh://git@host/o/r.git",
            "user@host:o/r.git",
            "github.com/o/r/base?ref=main",
            "gitlab.com/o/r",
            "base//sub",
        ] {
            for field in ["resources", "components", "bases"] {
                let text = format!("resources:\n  - local.yaml\n{field}:\n  - {reference}\n");
                let text = text.replacen(
                    "resources:\n  - local.yaml\nresources:",
                    "resources:\n  - local.yaml",
                    1,
                );
                let error = refusal(&text);
                let line = if field == "resources" { 3 } else { 4 };
                assert_eq!(
                    error,
                    format!(
                        "app/kustomization.yaml:{line}: remote resource '{reference}' refused: \
                         only relative paths inside the fleet repository are allowed"
                    ),
                    "{field}: {reference}"
                );
            }
        }
        let error = refusal("patches:\n  - path: https://example.com/patch.yaml\n");
        assert!(
            error.starts_with("app/kustomization.yaml:2: remote resource"),
            "{error}"
        );
        let error =
            refusal("configMapGenerator:\n  - name: x\n    files:\n      - key=https://x/y\n");
        assert!(
            error.starts_with("app/kustomization.yaml:4: remote resource"),
            "{error}"
        );
        // `key=` splitting is only for generator files: elsewhere it is part of the path.
        let error = refusal("resources:\n  - a=local.yaml\n");
        assert!(error.contains("remote resource 'a=local.yaml'"), "{error}");
        // A folder Kustomize would read as a URL, even though it exists.
        let error = refusal("resources:\n  - github.com/o/r/base\n");
        assert!(error.contains("write './github.com/o/r/base'"), "{error}");
    }

    #[test]
    fn local_files_and_folders_pass_and_missing_ones_are_named() {
        let accepted = "resources:\n  - local.yaml\n  - ../shared/base\n  - ./github.com/o/r/base\n\
                        configMapGenerator:\n  - name: x\n    files:\n      - key=local.yaml\n    envs:\n      - config.env\n";
        check_references(&snapshot_with(accepted), "app").unwrap();
        let error = refusal("resources:\n  - missing.yaml\n");
        assert_eq!(
            error,
            "app/kustomization.yaml:2: path 'missing.yaml' is not a file or folder of the fleet repository (refused)"
        );
        let error = refusal("resources:\n  - /etc/passwd\n");
        assert!(error.contains("leaves the repository"), "{error}");
    }
}
