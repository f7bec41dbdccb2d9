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
        command.current_dir(&workspace).args([
            "build",
            "--quiet",
            "--bins",
            "-p",
            "fleet-hub",
            "-p",
            "fleetctl",
            "-p",
            "fleet-agent",
        ]);
        if profile_directory
            .file_name()
            .is_some_and(|name| name == "release")
        {
            command.arg("--release");
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
