//! The Helm the demo's hub renders with (the example fleet has a Helm
//! app, `podinfo`). Looked for in order: `fleetctl demo --helm`,
//! `FLEET_HELM`, `helm` on PATH, this source tree's development front end
//! (`tools/helm-template/helm` once `scripts/test-prereqs` made its venv),
//! and the front end the demo set up before in the cache folder. With none,
//! the demo sets up that front end itself — a Python venv with the Helm
//! engine from PyPI (`helm-python-sdk`, the version `scripts/test-prereqs`
//! pins) in `$XDG_CACHE_HOME/fleet/helm-template` (else
//! `~/.cache/fleet/helm-template`) — saying so on one line; if that fails
//! it stops saying how to get Helm.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// The Helm engine from PyPI the bundled front end runs on.
pub const HELM_PYTHON_SDK: &str = "helm-python-sdk==0.2.2";

/// The front end's program (the same file as `tools/helm-template/`).
const FRONT_END: &str = include_str!("../../../../tools/helm-template/helm_template.py");

/// How to get Helm, when the demo cannot.
const HOW_TO_GET_HELM: &str = "install Helm 3.8+ (https://helm.sh/docs/intro/install/) and put \
    `helm` on PATH, or pass `fleetctl demo --helm PATH` / set FLEET_HELM";

/// The Helm binary for the demo's hub, set up if need be.
pub fn find_or_set_up(configured: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = configured {
        if path.is_file() {
            return Ok(path.to_owned());
        }
        bail!(
            "--helm {} does not exist: {HOW_TO_GET_HELM}",
            path.display()
        );
    }
    if let Some(path) =
        std::env::var_os(fleet_core::render::HELM_ENV).filter(|value| !value.is_empty())
    {
        return Ok(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|directory| directory.join("helm"))
            .find(|candidate| candidate.is_file())
    });
    if let Some(found) = on_path {
        return Ok(found);
    }
    let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if source_tree
        .join("target/test-tools/venv/bin/python")
        .is_file()
    {
        return Ok(source_tree.join("tools/helm-template/helm"));
    }
    let Some(folder) = cache_folder() else {
        bail!("no helm found and no cache folder (HOME unset) to set one up in: {HOW_TO_GET_HELM}");
    };
    let front_end = folder.join("helm");
    if front_end.is_file() && folder.join("venv/bin/python").is_file() {
        return Ok(front_end);
    }
    eprintln!(
        "fleetctl demo: the example fleet has a Helm app and no helm was found; setting up a \
         `helm template` front end ({HELM_PYTHON_SDK} from PyPI in a Python venv) in {}",
        folder.display()
    );
    set_up(&folder).with_context(|| {
        format!(
            "setting up the Helm front end in {} failed; {HOW_TO_GET_HELM}",
            folder.display()
        )
    })?;
    Ok(front_end)
}

/// `$XDG_CACHE_HOME/fleet/helm-template`, else `~/.cache/fleet/helm-template`.
fn cache_folder() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("fleet/helm-template"))
}

/// Creates the venv, installs the engine and writes the front end.
fn set_up(folder: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder)?;
    let venv = folder.join("venv");
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin/python")).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        HELM_PYTHON_SDK,
    ]))?;
    std::fs::write(folder.join("helm_template.py"), FRONT_END)?;
    let script = folder.join("helm");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n# `helm template` over the Helm engine from PyPI, set up by `fleetctl demo`.\n\
             exec '{}' '{}' \"$@\"\n",
            venv.join("bin/python").display(),
            folder.join("helm_template.py").display()
        ),
    )?;
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let output = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_installs_the_engine_version_the_tests_use() {
        let prerequisites = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/test-prereqs"),
        )
        .unwrap();
        assert!(
            prerequisites.contains(super::HELM_PYTHON_SDK),
            "scripts/test-prereqs does not install {}",
            super::HELM_PYTHON_SDK
        );
    }
}
