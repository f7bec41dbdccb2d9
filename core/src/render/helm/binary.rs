//! Which Helm binary renders Helm apps: `render.helm` in hub.yaml or
//! `fleetctl --helm` (passed in the settings), else `FLEET_HELM`, else `helm`
//! on PATH.

use std::path::{Path, PathBuf};

/// Environment variable naming the Helm binary when the settings name none.
pub const HELM_ENV: &str = "FLEET_HELM";

/// How to configure Helm, appended to every "no helm" error.
const HOW_TO_CONFIGURE: &str = "install Helm 3.8+ (https://helm.sh) and put `helm` on PATH, \
    or name the binary with render.helm in hub.yaml, fleetctl --helm or FLEET_HELM \
    (for development: tools/helm-template/helm)";

/// The Helm binary to run, or why there is none.
pub fn helm_binary(configured: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = configured {
        return existing(path, "the configured helm binary");
    }
    if let Some(path) = std::env::var_os(HELM_ENV).filter(|value| !value.is_empty()) {
        return existing(Path::new(&path), HELM_ENV);
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|directory| directory.join("helm"))
                .find(|candidate| candidate.is_file())
        })
        .ok_or_else(|| format!("no helm binary found on PATH: {HOW_TO_CONFIGURE}"))
}

/// `path` if it is a file, made absolute: Helm runs in another working
/// directory, so `--helm tools/helm-template/helm` must keep meaning the
/// same file.
fn existing(path: &Path, what: &str) -> Result<PathBuf, String> {
    if path.is_file() {
        Ok(std::path::absolute(path).unwrap_or_else(|_| path.to_owned()))
    } else {
        Err(format!(
            "{what} {} does not exist: {HOW_TO_CONFIGURE}",
            path.display()
        ))
    }
}
