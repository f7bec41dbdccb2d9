//! A fleet repository is hostile input (issue #13): crafted tree entry
//! names, remote Kustomize references, a Kustomize that hangs and huge
//! blobs are refused by `fleetctl` with the file named, and nothing is
//! written outside the render directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{GitRepository, commit_with_literal_entry, examples, fleetctl_with_env};

#[test]
fn a_tree_entry_that_climbs_out_is_refused_and_nothing_is_written_outside() {
    let repository = GitRepository::with_content(&examples());
    repository.commit("fleet");
    // The export for Kustomize goes to $TMPDIR/fleet-render-*/; an entry
    // named `../../escaped.yaml` would land next to $TMPDIR.
    let sandbox = tempfile::tempdir().unwrap();
    let temporary = sandbox.path().join("tmp");
    std::fs::create_dir(&temporary).unwrap();
    let crafted = commit_with_literal_entry(repository.path(), "../../escaped.yaml", b"boom\n");
    let fake_kustomize = sandbox.path().join("kustomize.sh");
    std::fs::write(&fake_kustomize, "#!/bin/sh\ntouch \"$0.ran\"\nexit 1\n").unwrap();
    make_executable(&fake_kustomize);
    for command in ["validate", "render"] {
        let mut arguments = vec![command, "--repo", repository.path_str(), "--rev", &crafted];
        if command == "render" {
            arguments.extend(["--cluster", "prod-eu-1"]);
        }
        let run = fleetctl_with_env(
            &arguments,
            &[("TMPDIR", &temporary), ("FLEET_KUSTOMIZE", &fake_kustomize)],
        );
        assert_eq!(run.code, 1, "{command}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("error: ../../escaped.yaml:1: tree entry name contains a path separator"),
            "{command}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{command}: {}", run.stdout);
    }
    let written: Vec<_> = walk(sandbox.path());
    assert_eq!(
        written,
        vec![sandbox.path().join("kustomize.sh")],
        "nothing may be written, least of all outside the render directory"
    );
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Every file under `root`, sorted.
fn walk(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            found.extend(walk(&entry.path()));
        } else {
            found.push(entry.path());
        }
    }
    found.sort();
    found
}
