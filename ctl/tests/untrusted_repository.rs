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

/// A stand-in for Kustomize that leaves a marker file when it runs, then
/// runs `then` (shell).
fn fake_kustomize(
    directory: &std::path::Path,
    then: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let script = directory.join("kustomize.sh");
    let marker = directory.join("kustomize-ran");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ntouch '{}'\n{then}\n", marker.display()),
    )
    .unwrap();
    make_executable(&script);
    (script, marker)
}

#[test]
fn remote_kustomize_references_are_refused_before_kustomize_runs() {
    let sandbox = tempfile::tempdir().unwrap();
    let (script, marker) = fake_kustomize(sandbox.path(), "exec kubectl kustomize \"$1\"");
    let repository = GitRepository::with_content(&examples());
    let kustomization = "apps/api/base/kustomization.yaml";
    let original = repository.read(kustomization);
    // The stand-in works: a valid fleet runs it.
    let run = fleetctl_with_env(
        &["validate", "--repo", repository.path_str()],
        &[("FLEET_KUSTOMIZE", &script)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(marker.exists(), "the stand-in kustomize never ran");
    std::fs::remove_file(&marker).unwrap();
    for reference in [
        "https://github.com/o/r//base?ref=v1",
        "git::https://github.com/o/r//base",
        "git@github.com:o/r.git",
        "ssh://git@host/o/r.git",
        "user@host:o/r.git",
        "github.com/o/r/base?ref=main",
    ] {
        // Line 10 of the kustomization: the third resource.
        repository.write(
            kustomization,
            &original.replace(
                "  - service.yaml\n",
                &format!("  - service.yaml\n  - {reference}\n"),
            ),
        );
        let run = fleetctl_with_env(
            &["validate", "--repo", repository.path_str()],
            &[("FLEET_KUSTOMIZE", &script)],
        );
        assert_eq!(run.code, 1, "{reference}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "error: {kustomization}:10: remote resource '{reference}' refused"
            )),
            "{reference}: {}",
            run.stderr
        );
        assert!(!marker.exists(), "{reference}: kustomize ran");
    }
}

#[test]
fn a_kustomize_that_hangs_is_killed_and_names_the_app() {
    let sandbox = tempfile::tempdir().unwrap();
    let (script, marker) = fake_kustomize(sandbox.path(), "sleep 300");
    let repository = GitRepository::with_content(&examples());
    let started = std::time::Instant::now();
    let run = fleetctl_with_env(
        &[
            "validate",
            "--repo",
            repository.path_str(),
            "--kustomize-timeout",
            "1s",
        ],
        &[("FLEET_KUSTOMIZE", &script)],
    );
    assert!(marker.exists(), "the stand-in kustomize never ran");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("did not finish within 1 s and was killed")
            && run.stderr.contains("app api"),
        "{}",
        run.stderr
    );
    // Not a timing assertion: the sleeping stand-in would hold it 300 s.
    assert!(started.elapsed() < std::time::Duration::from_secs(200));
}

#[test]
fn a_48_mib_manifest_is_refused_naming_the_file_from_git_and_from_a_directory() {
    let repository = GitRepository::with_content(&examples());
    let line = "# padding padding padding padding padding padding padding padding\n";
    let huge = line.repeat(48 * 1024 * 1024 / line.len() + 1);
    repository.write("apps/web/base/huge.yaml", &huge);
    repository.commit("a huge manifest");
    let empty: [(&str, &std::path::Path); 0] = [];
    for arguments in [
        vec!["validate", "--repo", repository.path_str(), "--rev", "main"],
        vec!["validate", "--repo", repository.path_str()],
    ] {
        let run = fleetctl_with_env(&arguments, &empty);
        assert_eq!(run.code, 1, "{arguments:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "error: apps/web/base/huge.yaml:1: file is {} bytes, over the limit of 4194304 bytes per file",
                huge.len()
            )),
            "{arguments:?}: {}",
            run.stderr
        );
    }
    // The limit is a setting.
    let run = fleetctl_with_env(
        &[
            "validate",
            "--repo",
            repository.path_str(),
            "--rev",
            "main",
            "--max-file-bytes",
            "100000000",
            "--max-revision-bytes",
            "1000000",
        ],
        &empty,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("takes the revision over the limit of 1000000 bytes of files"),
        "{}",
        run.stderr
    );
}

#[test]
fn one_bad_file_shared_by_many_clusters_is_reported_once() {
    let repository = GitRepository::with_content(&examples());
    repository.edit(
        "apps/api/base/kustomization.yaml",
        "  - service.yaml\n",
        "  - service.yaml\n  - missing.yaml\n",
    );
    let empty: [(&str, &std::path::Path); 0] = [];
    let run = fleetctl_with_env(&["validate", "--repo", repository.path_str()], &empty);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("error: "))
        .collect();
    // The api app reaches every cluster; the one broken line is one error
    // that lists them, not one line per cluster.
    assert_eq!(
        errors,
        [
            "error: apps/api/base/kustomization.yaml:10: path 'missing.yaml' is not a file or folder \
             of the fleet repository (refused) (clusters dev-eu-1, dev-us-1, prod-eu-1, prod-eu-2, \
             prod-us-1, prod-us-2, staging-eu-1, staging-us-1; app api)"
        ],
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("\n1 error(s)"), "{}", run.stderr);
    let run = fleetctl_with_env(
        &["validate", "--repo", repository.path_str(), "-o", "json"],
        &empty,
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["errors"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["errors"][0]["clusters"].as_array().unwrap().len(), 8);
}
