//! Helpers shared by fleetctl's end-to-end tests: run the real binary, build
//! real Git repositories with the `git` CLI.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use fleet_tests::git_fixture::{commit_with_literal_entry, git};

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
        .env(fleet_core::render::HELM_ENV, helm_front_end())
        .output()
        .expect("fleetctl starts");
    Run::from(output)
}

/// The `helm template` front end over the Helm engine from PyPI
/// (tools/helm-template; scripts/test-prereqs installs the engine).
pub fn helm_front_end() -> PathBuf {
    fleet_tests::tools::helm()
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

/// Runs the real `fleetctl` binary with extra environment variables (Helm:
/// the test front end unless `environment` names another).
pub fn fleetctl_with_env(arguments: &[&str], environment: &[(&str, &Path)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fleetctl"));
    command
        .args(arguments)
        .env(fleet_core::render::HELM_ENV, helm_front_end());
    for (name, value) in environment {
        command.env(name, value);
    }
    Run::from(command.output().expect("fleetctl starts"))
}
