//! Helpers for the crate's unit tests.

use std::path::Path;
use std::sync::Arc;

use crate::source::{Entry, Snapshot};

/// The files of `fleet-examples/`, with `edits` (path, new content) applied.
pub fn example(edits: &[(&str, &str)]) -> Arc<Snapshot> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fleet-examples");
    directory_with_edits(&root, edits)
}

/// Render settings for the example fleet (it has a Helm app): Helm is the
/// `helm template` front end over the engine in the test venv, which
/// `scripts/test-prereqs` installs.
pub fn example_settings() -> crate::render::RenderSettings {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv_python = workspace.join("target/test-tools/venv/bin/python");
    assert!(
        venv_python.is_file(),
        "run scripts/test-prereqs: it installs the Helm engine these tests render with"
    );
    crate::render::RenderSettings {
        helm: Some(workspace.join("tools/helm-template/helm")),
        ..crate::render::RenderSettings::default()
    }
}

/// The files under `root` (relative to the workspace), with `edits` applied.
pub fn directory_with_edits(root: &Path, edits: &[(&str, &str)]) -> Arc<Snapshot> {
    fn walk(root: &Path, relative: &str, files: &mut Vec<(String, Entry)>) {
        for entry in std::fs::read_dir(root.join(relative)).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if relative.is_empty() {
                name
            } else {
                format!("{relative}/{name}")
            };
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, files);
            } else {
                let content = std::fs::read(entry.path()).unwrap();
                files.push((path, Entry::File(Arc::from(content))));
            }
        }
    }
    let mut files = Vec::new();
    walk(root, "", &mut files);
    for (path, content) in edits {
        files.retain(|(known, _)| known != path);
        files.push((
            (*path).to_owned(),
            Entry::File(Arc::from(content.as_bytes())),
        ));
    }
    Arc::new(Snapshot::from_entries(
        files,
        None,
        root.display().to_string(),
    ))
}

/// Runs `git` in `directory`, feeding `input` on stdin; returns stdout.
pub fn git_with_input(directory: &Path, arguments: &[&str], input: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .args(arguments)
        .current_dir(directory)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@fleet.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@fleet.invalid")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "git {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Writes a tree object with exactly `entries` (mode, name, object id),
/// names taken as given: `git hash-object -t tree --literally` accepts
/// names such as `../x` that `git mktree` would refuse.
pub fn literal_tree(directory: &Path, entries: &[(&str, &[u8], &str)]) -> String {
    let mut bytes = Vec::new();
    for (mode, name, id) in entries {
        bytes.extend_from_slice(mode.as_bytes());
        bytes.push(b' ');
        bytes.extend_from_slice(name);
        bytes.push(0);
        for pair in id.as_bytes().chunks(2) {
            let digits = std::str::from_utf8(pair).unwrap();
            bytes.push(u8::from_str_radix(digits, 16).unwrap());
        }
    }
    git_with_input(
        directory,
        &["hash-object", "-t", "tree", "--literally", "-w", "--stdin"],
        &bytes,
    )
}
