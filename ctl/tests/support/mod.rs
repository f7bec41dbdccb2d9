//! Helpers shared by fleetctl's end-to-end tests: run the real binary, build
//! real Git repositories with the `git` CLI.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The example fleet shipped with the project.
pub fn examples() -> PathBuf {
    workspace().join("fleet-examples")
}

/// What a fleetctl run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with the output unless the run succeeded.
    pub fn success(self) -> Self {
        assert_eq!(
            self.code, 0,
            "fleetctl failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs the real `fleetctl` binary.
pub fn fleetctl(arguments: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_fleetctl"))
        .args(arguments)
        .output()
        .expect("fleetctl starts");
    Run::from(output)
}

/// Runs `git` in `directory` with a fixed identity; returns stdout.
pub fn git(directory: &Path, arguments: &[&str]) -> String {
    let output = Command::new("git")
        .args(arguments)
        .current_dir(directory)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@fleet.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@fleet.invalid")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Copies a directory tree (files only; symlinks are not expected here).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A Git repository in a temporary directory, made with the `git` CLI.
pub struct GitRepository {
    pub directory: tempfile::TempDir,
}

impl GitRepository {
    /// A new repository on branch `main` holding a copy of `content`.
    pub fn with_content(content: &Path) -> Self {
        let directory = tempfile::tempdir().unwrap();
        copy_tree(content, directory.path());
        git(
            directory.path(),
            &["init", "--quiet", "--initial-branch=main"],
        );
        Self { directory }
    }

    pub fn path(&self) -> &Path {
        self.directory.path()
    }

    pub fn path_str(&self) -> &str {
        self.directory.path().to_str().unwrap()
    }

    /// Writes a file (relative path).
    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Reads a file (relative path).
    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path().join(relative)).unwrap()
    }

    /// Replaces `from` by `to` in a file, which must contain it.
    pub fn edit(&self, relative: &str, from: &str, to: &str) {
        let text = self.read(relative);
        assert!(text.contains(from), "{relative} does not contain {from:?}");
        self.write(relative, &text.replacen(from, to, 1));
    }

    /// Commits everything; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        git(self.path(), &["add", "--all"]);
        git(self.path(), &["commit", "--quiet", "--message", message]);
        git(self.path(), &["rev-parse", "HEAD"])
    }
}

/// Runs the real `fleetctl` binary with extra environment variables.
pub fn fleetctl_with_env(arguments: &[&str], environment: &[(&str, &Path)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fleetctl"));
    command.args(arguments);
    for (name, value) in environment {
        command.env(name, value);
    }
    Run::from(command.output().expect("fleetctl starts"))
}

/// Runs `git` in `directory` with `input` on stdin; returns stdout.
pub fn git_with_input(directory: &Path, arguments: &[&str], input: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("git")
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
        "git {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Commits, on top of HEAD of the repository at `directory`, HEAD's tree plus
/// one file entry named `name` at the root, written with
/// `git hash-object -t tree --literally` so that any name (`../x`, `.git`)
/// is taken as given. Returns the new commit id (no branch moves).
pub fn commit_with_literal_entry(directory: &Path, name: &str, content: &[u8]) -> String {
    let blob = git_with_input(directory, &["hash-object", "-w", "--stdin"], content);
    let mut entries: Vec<(String, String, String)> = git(directory, &["ls-tree", "HEAD"])
        .lines()
        .map(|line| {
            let (info, entry_name) = line.split_once('\t').unwrap();
            let mut words = info.split(' ');
            let mode = words.next().unwrap().trim_start_matches('0').to_owned();
            let id = words.nth(1).unwrap().to_owned();
            (entry_name.to_owned(), mode, id)
        })
        .collect();
    entries.push((name.to_owned(), "100644".to_owned(), blob));
    entries.sort();
    let mut bytes = Vec::new();
    for (entry_name, mode, id) in &entries {
        bytes.extend_from_slice(format!("{mode} {entry_name}\0").as_bytes());
        for pair in id.as_bytes().chunks(2) {
            bytes.push(u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap());
        }
    }
    let tree = git_with_input(
        directory,
        &["hash-object", "-t", "tree", "--literally", "-w", "--stdin"],
        &bytes,
    );
    git(
        directory,
        &["commit-tree", &tree, "-p", "HEAD", "-m", "crafted"],
    )
}
