//! Real Git repositories for end-to-end tests: a working clone that commits
//! and pushes, and a bare remote served over `git://` by `git daemon`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::net::free_port;

/// Runs git in `directory`; returns trimmed stdout.
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
        "git {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Runs git in `directory` with `input` on stdin; returns trimmed stdout.
pub fn git_with_input(directory: &Path, arguments: &[&str], input: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("git")
        .args(arguments)
        .current_dir(directory)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@fleet.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@fleet.invalid")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("git runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "git {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Commits, on top of HEAD of the repository at `directory`, HEAD's tree plus
/// one file entry named `name` at the root, written with
/// `git hash-object -t tree --literally` so that any name (`../x`, `.git`)
/// is taken as given, as an attacker's Git client could. Returns the new
/// commit id (no branch moves).
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

fn copy_tree(from: &Path, to: &Path) {
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

/// The clusters of the example fleet ([`examples`]), sorted by name.
pub const EXAMPLE_CLUSTERS: [&str; 8] = [
    "dev-eu-1",
    "dev-us-1",
    "prod-eu-1",
    "prod-eu-2",
    "prod-us-1",
    "prod-us-2",
    "staging-eu-1",
    "staging-us-1",
];

/// The example fleet shipped with the project.
pub fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fleet-examples")
}

/// A bare remote, a working clone pushing to it, and optionally a git daemon.
pub struct FleetRemote {
    pub root: tempfile::TempDir,
    daemon: Option<Child>,
    daemon_port: Option<u16>,
}

impl FleetRemote {
    /// A remote holding `content` as its first commit on `main`.
    pub fn with_content(content: &Path) -> Self {
        let root = tempfile::tempdir().unwrap();
        let bare = root.path().join("fleet.git");
        let work = root.path().join("work");
        copy_tree(content, &work);
        git(&work, &["init", "--quiet", "--initial-branch=main"]);
        git(&work, &["add", "--all"]);
        git(&work, &["commit", "--quiet", "--message", "Initial fleet"]);
        git(
            root.path(),
            &[
                "clone",
                "--quiet",
                "--bare",
                work.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        Self {
            root,
            daemon: None,
            daemon_port: None,
        }
    }

    /// The working clone.
    pub fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// The bare remote's path.
    pub fn bare(&self) -> PathBuf {
        self.root.path().join("fleet.git")
    }

    /// Serves the bare remote over `git://127.0.0.1:<port>/fleet.git`.
    pub fn serve(&mut self) -> String {
        let port = free_port();
        std::fs::write(self.bare().join("git-daemon-export-ok"), "").unwrap();
        let child = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", self.root.path().display()),
                "--export-all",
                self.root.path().to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        self.daemon = Some(child);
        self.daemon_port = Some(port);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "git daemon did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        format!("git://127.0.0.1:{port}/fleet.git")
    }

    /// Writes a file in the working clone.
    pub fn write(&self, relative: &str, text: &str) {
        let path = self.work().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Replaces the first `from` with `to` in a file of the working clone.
    pub fn edit(&self, relative: &str, from: &str, to: &str) {
        let path = self.work().join(relative);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{relative} lacks {from:?}");
        std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    }

    /// Commits everything and pushes to the remote; returns the commit id.
    pub fn commit_and_push(&self, message: &str) -> String {
        git(&self.work(), &["add", "--all"]);
        git(&self.work(), &["commit", "--quiet", "--message", message]);
        git(&self.work(), &["push", "--quiet", "origin", "main"]);
        self.head()
    }

    /// Commits HEAD's tree plus a root entry named `name` (taken as given,
    /// written with `git hash-object -t tree --literally`, so `../x` is
    /// possible) and pushes it to `main`, as an attacker with push rights
    /// could; returns the commit id. The working clone's branch stays put.
    pub fn push_literal_entry(&self, name: &str, content: &[u8]) -> String {
        let work = self.work();
        let commit = commit_with_literal_entry(&work, name, content);
        git(
            &work,
            &[
                "push",
                "--quiet",
                "origin",
                &format!("{commit}:refs/heads/main"),
            ],
        );
        commit
    }

    /// The working clone's HEAD.
    pub fn head(&self) -> String {
        git(&self.work(), &["rev-parse", "HEAD"])
    }
}

impl Drop for FleetRemote {
    fn drop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
