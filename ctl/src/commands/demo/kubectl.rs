//! Looking at the simulated clusters the way a user would: with kubectl.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, bail};

/// Runs kubectl against one simulator; returns stdout.
pub fn kubectl(kubeconfig: &Path, arguments: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(arguments)
        .output()
        .context("running kubectl (is it installed?)")?;
    if !output.status.success() {
        bail!(
            "kubectl {} failed: {}",
            arguments.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The image of the first container of a Deployment, if it exists.
pub fn deployment_image(kubeconfig: &Path, namespace: &str, name: &str) -> Option<String> {
    kubectl(
        kubeconfig,
        &[
            "get",
            "deployment",
            name,
            "-n",
            namespace,
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ],
    )
    .ok()
    .filter(|image| !image.is_empty())
}
