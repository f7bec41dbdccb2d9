//! The workspace's binaries, built once and started as processes.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The target directory the test binary runs from.
fn target_directory() -> PathBuf {
    // tests run from <target>/<profile>/deps/<test binary>
    let executable = std::env::current_exe().expect("test binary path");
    executable
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .to_owned()
}

/// Path of a workspace binary, building the binaries first (a no-op when
/// they are current; cargo's lock makes parallel tests wait for one build).
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_owned();
        let profile_directory = target_directory();
        let mut command = Command::new(cargo);
        // The same selection as `cargo nextest run --workspace` (every
        // package, test targets included), so features unify exactly as in
        // the test build: the binaries reuse its compiled dependencies, and
        // the next test build has nothing to redo.
        command.current_dir(&workspace).args([
            "build",
            "--quiet",
            "--workspace",
            "--bins",
            "--tests",
        ]);
        if profile_directory
            .file_name()
            .is_some_and(|name| name == "release")
        {
            command.arg("--release");
        }
        // Cargo gives this test process its package's variables
        // (CARGO_MANIFEST_DIR, CARGO_PKG_*, ...). Build scripts that track
        // them (ring's does) would see a change and rebuild half the tree,
        // so the build gets the environment a shell would give it.
        for (variable, _) in std::env::vars_os() {
            let variable = variable.to_string_lossy().into_owned();
            if is_set_by_cargo_for_a_crate(&variable) {
                command.env_remove(&variable);
            }
        }
        if let Some(target) = profile_directory.parent() {
            command.env("CARGO_TARGET_DIR", target);
        }
        let status = command.status().expect("cargo runs");
        assert!(status.success(), "building the fleet binaries failed");
    });
    let path = target_directory().join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// Whether cargo sets `variable` for the crate it builds or runs (as
/// opposed to the user's own settings such as `CARGO_HOME`).
fn is_set_by_cargo_for_a_crate(variable: &str) -> bool {
    variable == "CARGO_MANIFEST_DIR"
        || variable == "CARGO_MANIFEST_PATH"
        || variable == "CARGO_CRATE_NAME"
        || variable == "CARGO_PRIMARY_PACKAGE"
        || variable == "CARGO_TARGET_TMPDIR"
        || variable == "OUT_DIR"
        || variable.starts_with("CARGO_PKG_")
        || variable.starts_with("CARGO_BIN_")
}
