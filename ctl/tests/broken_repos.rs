//! The corpus of broken fleet repositories in `tests/broken/`: each must make
//! `fleetctl validate` exit 1 with an error naming the defect's `file:line`,
//! read from a directory and from Git alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use support::{GitRepository, copy_tree, fleetctl, git};

fn corpus() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken")
}

/// Copies case `name` into a temporary directory, creating the symlink its
/// `.setup` file asks for (git can hold symlinks, but the corpus stays plain files).
fn materialize(name: &str) -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    copy_tree(&corpus().join(name), directory.path());
    let setup = corpus().join(format!("{name}.setup"));
    if setup.exists() {
        let text = std::fs::read_to_string(setup).unwrap();
        let (link, target) = text.trim().split_once(" -> ").unwrap();
        std::os::unix::fs::symlink(target, directory.path().join(link)).unwrap();
    }
    directory
}

fn expected_location(name: &str) -> String {
    std::fs::read_to_string(corpus().join(format!("{name}.expect")))
        .unwrap()
        .trim()
        .to_owned()
}

fn assert_refused(name: &str, arguments: &[&str]) {
    let run = fleetctl(arguments);
    let location = expected_location(name);
    assert_eq!(
        run.code, 1,
        "{name}: expected exit 1\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains(&format!("error: {location}: ")),
        "{name}: expected an error at {location}, got:\n{}",
        run.stderr
    );
    assert!(
        run.stdout.is_empty(),
        "{name}: nothing may be printed as valid output: {}",
        run.stdout
    );
}

fn check_directory(name: &str) {
    let directory = materialize(name);
    assert_refused(
        name,
        &["validate", "--repo", directory.path().to_str().unwrap()],
    );
}

macro_rules! broken_cases {
    ($($test:ident => $case:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_directory($case);
            }
        )*

        const CASES: &[&str] = &[$($case),*];
    };
}

broken_cases! {
    invalid_yaml => "invalid-yaml",
    missing_kind => "missing-kind",
    missing_name => "missing-name",
    unknown_kind => "unknown-kind",
    name_mismatch => "name-mismatch",
    duplicate_object => "duplicate-object",
    unknown_variable => "unknown-variable",
    unknown_environment => "unknown-environment",
    bad_selector_operator => "bad-selector-operator",
    depends_on_cycle => "depends-on-cycle",
    depends_on_missing => "depends-on-missing",
    non_scalar_key => "non-scalar-key",
    overflowing_duration => "overflowing-duration",
    overlay_no_match => "overlay-no-match",
    symlink_escape => "symlink-escape",
    kustomize_dotdot => "kustomize-dotdot",
    kustomize_fails => "kustomize-fails",
    kustomize_remote => "kustomize-remote",
    duplicate_wave => "duplicate-wave",
    bad_duration => "bad-duration",
    bad_max_parallel => "bad-max-parallel",
    bad_on_failure => "bad-on-failure",
    wrong_api_version => "wrong-api-version",
    helm_chart_missing => "helm-chart-missing",
    helm_template_error => "helm-template-error",
    helm_values_file_missing => "helm-values-file-missing",
    helm_object_without_name => "helm-object-without-name",
    helm_collision => "helm-collision",
    bad_window_cron => "bad-window-cron",
    bad_window_timezone => "bad-window-timezone",
    window_unknown_wave => "window-unknown-wave",
}

#[test]
fn every_case_in_the_corpus_is_tested() {
    let mut found: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut listed: Vec<String> = CASES.iter().map(|case| (*case).to_owned()).collect();
    listed.sort();
    assert_eq!(found, listed);
}

#[test]
fn broken_commits_are_refused_when_read_from_git() {
    // The same defects committed to Git (the symlink as a real Git symlink)
    // are found when reading straight from the object database.
    for name in [
        "symlink-escape",
        "unknown-variable",
        "kustomize-dotdot",
        "kustomize-remote",
        "duplicate-object",
    ] {
        let directory = materialize(name);
        git(
            directory.path(),
            &["init", "--quiet", "--initial-branch=main"],
        );
        git(directory.path(), &["add", "--all"]);
        git(
            directory.path(),
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "--quiet",
                "-m",
                "broken",
            ],
        );
        // Make the working tree valid-looking: only the commit is broken.
        std::fs::remove_dir_all(directory.path().join("apps")).unwrap();
        assert_refused(
            name,
            &[
                "validate",
                "--repo",
                directory.path().to_str().unwrap(),
                "--rev",
                "main",
            ],
        );
    }
}

#[test]
fn a_revision_that_does_not_exist_is_a_clear_error() {
    let repository = GitRepository::with_content(&support::examples());
    repository.commit("fleet");
    let run = fleetctl(&[
        "validate",
        "--repo",
        repository.path_str(),
        "--rev",
        "no-such-branch",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("revision 'no-such-branch' not found"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
}

#[test]
fn every_error_of_a_repository_is_reported_at_once() {
    let directory = materialize("unknown-environment");
    // Add a second, independent defect: a cluster file of an unknown kind.
    std::fs::write(
        directory.path().join("clusters/b.yaml"),
        "apiVersion: fleet/v1alpha1\nkind: Clustr\nmetadata:\n  name: b\n",
    )
    .unwrap();
    let run = fleetctl(&["validate", "--repo", directory.path().to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "error: {}: ",
            expected_location("unknown-environment")
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("error: clusters/b.yaml:2: unknown kind \"Clustr\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("2 error(s)"), "{}", run.stderr);
}
