//! The crate graph keeps its edges (issue #15): the agent links no Git,
//! Raft or storage library, the hub no SOPS or age library, and the wire
//! crate depends on no other fleet crate. Checked with `cargo tree` on the
//! workspace itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

/// The names of the crates `package` links (normal dependencies only, as
/// `cargo tree -e normal` lists them, itself included).
fn normal_dependencies(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let output = Command::new(&cargo)
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .output()
        .unwrap_or_else(|error| panic!("running {cargo} tree: {error}"));
    assert!(
        output.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    assert!(
        names.iter().any(|name| name == package),
        "cargo tree -p {package} did not list {package} itself: {names:?}"
    );
    names
}

#[test]
fn the_agent_links_no_git_raft_or_storage_library() {
    let linked = normal_dependencies("fleet-agent");
    let forbidden = [
        "git2",
        "libgit2-sys",
        "openraft",
        "redb",
        "fleet-core",
        "fleet-hub",
    ];
    let found: Vec<&str> = forbidden
        .into_iter()
        .filter(|name| linked.iter().any(|linked| linked == name))
        .collect();
    assert!(found.is_empty(), "fleet-agent links {found:?}");
}

#[test]
fn the_wire_and_client_crates_depend_on_no_other_fleet_crate() {
    for package in ["fleet-proto", "fleet-client"] {
        let fleet: Vec<String> = normal_dependencies(package)
            .into_iter()
            .filter(|name| name.starts_with("fleet-") && name != package)
            .collect();
        assert!(fleet.is_empty(), "{package} depends on {fleet:?}");
    }
}

#[test]
fn the_hub_links_no_sops_or_age_library() {
    // The hub never holds plaintext nor a key: only the agent and fleetctl
    // decrypt SOPS files (issue #17).
    let linked = normal_dependencies("fleet-hub");
    let found: Vec<&str> = ["fleet-sops", "age", "aes-gcm"]
        .into_iter()
        .filter(|name| linked.iter().any(|linked| linked == name))
        .collect();
    assert!(found.is_empty(), "fleet-hub links {found:?}");
}
