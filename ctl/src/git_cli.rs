//! Running the `git` CLI for generated and demo repositories (commits by a
//! fixed, obviously synthetic author).

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, bail};

/// Runs `git ARGUMENTS` in `directory`; returns its trimmed standard output.
pub fn git(directory: &Path, arguments: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .args(arguments)
        .current_dir(directory)
        .env("GIT_AUTHOR_NAME", "fleet")
        .env("GIT_AUTHOR_EMAIL", "fleet@fleet.invalid")
        .env("GIT_COMMITTER_NAME", "fleet")
        .env("GIT_COMMITTER_EMAIL", "fleet@fleet.invalid")
        .output()
        .context("running git (is it installed?)")?;
    if !output.status.success() {
        bail!(
            "git {} failed in {}: {}",
            arguments.join(" "),
            directory.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
