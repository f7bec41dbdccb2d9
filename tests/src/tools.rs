//! External tools the tests start besides the workspace's own binaries:
//! Debian packages (`age`, `prometheus`, `chromium`, `docker-registry`, …)
//! and the Python venv with the PyPI tools (`sops`, grpcio, the Helm engine).
//! `scripts/test-prereqs` installs all of them; a test that finds one missing
//! fails saying so instead of skipping.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_owned()
}

/// The venv `scripts/test-prereqs` creates.
pub fn venv() -> PathBuf {
    workspace().join("target/test-tools/venv")
}

/// The venv's Python interpreter (grpcio, grpcio-tools, helm_python).
pub fn venv_python() -> PathBuf {
    require(venv().join("bin/python"), "python (venv)")
}

/// The `helm template` front end over the Helm engine in the venv
/// (`tools/helm-template/helm`): what hubs (`render.helm`) and fleetctl
/// (`--helm`) started by tests render Helm apps with.
pub fn helm() -> PathBuf {
    venv_python();
    require(
        workspace().join("tools/helm-template/helm"),
        "the helm template front end",
    )
}

/// Sets `render.helm` in the hub.yaml at `hub_yaml` to [`helm`]: every
/// hub a test starts renders Helm apps (fleet-examples has one) with it.
pub fn configure_helm(hub_yaml: &Path) {
    let text = std::fs::read_to_string(hub_yaml).unwrap();
    let mut found = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let indent = &line[..line.len() - line.trim_start().len()];
            if line.trim_start().starts_with("helm:") {
                found = true;
                format!("{indent}helm: {}", helm().display())
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert!(found, "no render.helm in {}:\n{text}", hub_yaml.display());
    std::fs::write(hub_yaml, lines.join("\n") + "\n").unwrap();
}

/// `name` from the venv's `bin/`, else from `PATH`.
pub fn tool(name: &str) -> PathBuf {
    let in_venv = venv().join("bin").join(name);
    if in_venv.is_file() {
        return in_venv;
    }
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|directory| directory.join(name))
            .find(|candidate| candidate.is_file())
    });
    require(found.unwrap_or(in_venv), name)
}

fn require(path: PathBuf, name: &str) -> PathBuf {
    assert!(
        path.is_file(),
        "{name} is not installed ({} missing): run scripts/test-prereqs, \
         which the README's test command runs first",
        path.display()
    );
    path
}
