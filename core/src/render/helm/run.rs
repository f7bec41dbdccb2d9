//! One `helm template` run, and the cache that shares runs between clusters
//! (and apps) whose inputs are equal: (chart digest, values files' contents,
//! inline values after substitution, namespace, release name, CRDs or not).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use super::super::external_command::ExternalCommand;
use super::super::object::SourceObject;
use super::super::settings::RenderSettings;
use super::binary::helm_binary;
use super::template_output;
use crate::diagnostic::{Diagnostic, Diagnostics};

/// What a Helm run produced (shared by every cluster with the same inputs).
pub type HelmResult = Arc<Result<Vec<SourceObject>, Diagnostics>>;

/// Everything a `helm template` run's output depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HelmRunKey {
    /// Digest of the chart's files (in-repo) or archive (fetched).
    pub chart_digest: String,
    /// sha256 of each values file, in order.
    pub values_files: Vec<String>,
    /// The inline values after substitution, as JSON.
    pub values: String,
    /// `--namespace`.
    pub namespace: String,
    /// The release name.
    pub release_name: String,
    /// `--include-crds`.
    pub include_crds: bool,
}

/// One run's inputs on disk.
pub struct HelmRun<'a> {
    /// The chart directory or `.tgz`.
    pub chart_path: &'a Path,
    /// Where the chart's files are shown in diagnostics.
    pub chart_root: &'a str,
    /// Values files, in order.
    pub values_files: Vec<PathBuf>,
    /// Inline values (after substitution), applied last.
    pub values: &'a Value,
    /// The cache key (namespace, release name, CRDs).
    pub key: &'a HelmRunKey,
    /// A path prefix (the exported revision) removed from Helm's messages.
    pub hidden_prefix: String,
    /// Where a failure Helm does not locate is reported (the app's spec.helm).
    pub fallback: Diagnostic,
}

/// Helm runs of one renderer, each done once per key.
#[derive(Default)]
pub struct HelmRuns {
    entries: Mutex<HashMap<HelmRunKey, Arc<OnceLock<HelmResult>>>>,
    runs: AtomicUsize,
    reused: AtomicUsize,
}

impl HelmRuns {
    /// The output for `key`, running `run` only if no cluster ran it yet.
    pub fn get_or_run(
        &self,
        key: &HelmRunKey,
        run: impl FnOnce() -> Result<Vec<SourceObject>, Diagnostics>,
    ) -> HelmResult {
        let cell = {
            let mut entries = self
                .entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            entries.entry(key.clone()).or_default().clone()
        };
        let mut ran = false;
        let result = cell
            .get_or_init(|| {
                ran = true;
                Arc::new(run())
            })
            .clone();
        if ran {
            self.runs.fetch_add(1, Ordering::Relaxed);
        } else {
            self.reused.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// `helm template` runs done.
    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::Relaxed)
    }

    /// Helm outputs reused from another cluster or app.
    pub fn reused(&self) -> usize {
        self.reused.load(Ordering::Relaxed)
    }
}

/// Runs `helm template` (cleared environment, timeout, capped output) and
/// parses what it prints.
pub fn run_template(
    run: &HelmRun<'_>,
    settings: &RenderSettings,
) -> Result<Vec<SourceObject>, Diagnostics> {
    let at_spec = |message: String| Diagnostic {
        message,
        ..run.fallback.clone()
    };
    let helm = helm_binary(settings.helm.as_deref()).map_err(at_spec)?;
    let scratch = tempfile::Builder::new()
        .prefix("fleet-helm-values-")
        .tempdir()
        .map_err(|error| at_spec(format!("creating a directory for Helm values: {error}")))?;
    let inline = scratch.path().join("values.json");
    std::fs::write(&inline, run.values.to_string())
        .map_err(|error| at_spec(format!("writing Helm values: {error}")))?;
    let mut words = vec![
        helm.to_string_lossy().into_owned(),
        "template".to_owned(),
        run.key.release_name.clone(),
        "--namespace".to_owned(),
        run.key.namespace.clone(),
        "--skip-tests".to_owned(),
    ];
    if run.key.include_crds {
        words.push("--include-crds".to_owned());
    }
    if let Some(version) = &settings.kube_version {
        words.push("--kube-version".to_owned());
        words.push(version.clone());
    }
    for file in run.values_files.iter().chain([&inline]) {
        words.push("--values".to_owned());
        words.push(file.to_string_lossy().into_owned());
    }
    let output = ExternalCommand {
        words: &words,
        timeout: settings.helm_timeout,
        output_limit: settings.limits.max_revision_bytes,
    }
    .run(run.chart_path)
    .map_err(|error| at_spec(format!("helm template failed: {error}")))?;
    if !output.success {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr = stderr
            .replace(&format!("{}/", scratch.path().display()), "")
            .replace(&run.hidden_prefix, "");
        return Err(template_output::failure(&stderr, run.chart_root, run.fallback.clone()).into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    template_output::parse(&stdout, run.chart_root)
}
