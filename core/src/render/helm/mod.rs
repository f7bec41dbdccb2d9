//! Helm apps (`spec.helm` in app.yaml): the chart is rendered with
//! `helm template` per set of values, then treated like any other app's
//! manifests (overlays, defaults, labels, apply order, digests).
//!
//! Stage one (per app and environment) locates the chart, computes its
//! digest and reads the environment's overlays. Stage two (per cluster)
//! substitutes `${var}` in the inline values and the values files' names,
//! runs Helm — once per distinct (chart digest, values, namespace, release
//! name), shared through [`HelmRuns`] — and applies the overlays (with their
//! own variables substituted). Helm's output itself is not substituted:
//! charts print `${…}` of their own (shell scripts, config files).
//!
//! Helm runs through [`super::external_command`] like Kustomize: cleared
//! environment, private HOME, its own process group killed at the timeout,
//! output capped; it never gets cluster access (`helm template` has none)
//! nor the network (charts are local directories).

mod binary;
mod run;
mod template_output;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::object::SourceObject;
use super::overlay::apply_overlays;
use super::renderer::FALLBACK_NAMESPACE;
use super::settings::RenderSettings;
use super::variables::{referenced_variables, substitute};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{App, HelmSource};
use crate::source::{Snapshot, normalize_within};
use crate::yaml::YamlDocument;

pub use binary::HELM_ENV;
pub use run::HelmRuns;
use run::{HelmRun, HelmRunKey, run_template};

/// Stage one of a Helm app for one environment.
#[derive(Debug, Clone)]
pub struct HelmPlan {
    /// Repository-relative chart directory.
    chart_directory: String,
    /// sha256 over the chart's files.
    chart_digest: String,
    /// The environment's overlay patches, variables not yet substituted.
    overlays: Vec<YamlDocument>,
}

/// What stage two needs besides the plan.
pub struct HelmContext<'a> {
    /// The revision being rendered.
    pub snapshot: &'a Snapshot,
    /// The revision exported to disk (Helm reads charts and values files there).
    pub export_root: &'a dyn Fn() -> Result<Arc<Path>, Diagnostic>,
    /// Limits and the Helm binary.
    pub settings: &'a RenderSettings,
    /// Runs shared between clusters.
    pub runs: &'a HelmRuns,
}

/// Stage one: locates the chart of `app` and reads `overlays`' variables.
/// Returns the plan and every variable stage two needs.
pub fn plan(
    snapshot: &Snapshot,
    app: &App,
    helm: &HelmSource,
    overlays: Vec<YamlDocument>,
) -> Result<(HelmPlan, BTreeSet<String>), Diagnostics> {
    let at = |pointer: &str, message: String| app.diagnostic(pointer, message).for_app(&app.name);
    if helm.repository.is_some() {
        return Err(at(
            "/spec/helm/repository",
            "charts from Helm repositories are not supported yet: vendor the chart into the \
             fleet repository and name its directory in spec.helm.chart"
                .to_owned(),
        )
        .into());
    }
    let app_folder = format!("apps/{}", app.name);
    let Some(chart_directory) = normalize_within(&app_folder, &helm.chart) else {
        return Err(at(
            "/spec/helm/chart",
            format!(
                "chart path '{}' leaves the repository (refused)",
                helm.chart
            ),
        )
        .into());
    };
    let chart_file = format!("{chart_directory}/Chart.yaml");
    if !snapshot.contains(&chart_file) {
        return Err(at(
            "/spec/helm/chart",
            format!(
                "chart directory {chart_directory} not found (no {chart_file} in the repository)"
            ),
        )
        .into());
    }
    let chart_digest = tree_digest(snapshot, &chart_directory)?;
    let mut variables = BTreeSet::new();
    if let Some(values) = &helm.values {
        referenced_variables(values, &mut variables);
    }
    for name in &helm.values_files {
        referenced_variables(&Value::String(name.clone()), &mut variables);
    }
    for overlay in &overlays {
        referenced_variables(&overlay.value, &mut variables);
    }
    Ok((
        HelmPlan {
            chart_directory,
            chart_digest,
            overlays,
        },
        variables,
    ))
}

/// Stage two: the app's objects for one set of variable values.
pub fn render(
    plan: &HelmPlan,
    app: &App,
    helm: &HelmSource,
    lookup: &dyn Fn(&str) -> Option<Value>,
    context: &HelmContext<'_>,
) -> Result<Vec<SourceObject>, Diagnostics> {
    let at = |pointer: &str, message: String| app.diagnostic(pointer, message).for_app(&app.name);
    let mut problems = Diagnostics::new();
    let mut values = helm
        .values
        .clone()
        .unwrap_or_else(|| Value::Object(Default::default()));
    let mut errors = Vec::new();
    substitute(&mut values, "/spec/helm/values", lookup, &mut errors);
    if !(values.is_object() || values.is_null()) {
        problems.push(at(
            "/spec/helm/values",
            "spec.helm.values must be a mapping".to_owned(),
        ));
    }
    let app_folder = format!("apps/{}", app.name);
    let mut values_files = Vec::new();
    for (index, name) in helm.values_files.iter().enumerate() {
        let pointer = format!("/spec/helm/valuesFiles/{index}");
        let mut substituted = Value::String(name.clone());
        substitute(&mut substituted, &pointer, lookup, &mut errors);
        let Value::String(name) = substituted else {
            problems.push(at(
                &pointer,
                format!("values file name '{name}' is not a string after substitution"),
            ));
            continue;
        };
        let Some(path) = normalize_within(&app_folder, &name) else {
            problems.push(at(
                &pointer,
                format!("values file '{name}' leaves the repository (refused)"),
            ));
            continue;
        };
        match context.snapshot.read_bytes(&path) {
            Ok(Some(bytes)) => values_files.push((path, hex::encode(Sha256::digest(bytes)))),
            Ok(None) => problems.push(at(&pointer, format!("values file {path} does not exist"))),
            Err(error) => problems.push(Diagnostic::from_source_error(&error).for_app(&app.name)),
        }
    }
    for (pointer, message) in errors {
        problems.push(at(&pointer, message));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let namespace = app.spec.namespace.as_deref().unwrap_or(FALLBACK_NAMESPACE);
    let key = HelmRunKey {
        chart_digest: plan.chart_digest.clone(),
        values_files: values_files
            .iter()
            .map(|(_, digest)| digest.clone())
            .collect(),
        values: values.to_string(),
        namespace: namespace.to_owned(),
        release_name: helm
            .release_name
            .clone()
            .unwrap_or_else(|| app.name.clone()),
        include_crds: helm.include_crds,
    };
    let output = context.runs.get_or_run(&key, || {
        let root = (context.export_root)()?;
        run_template(
            &HelmRun {
                chart_path: &root.join(&plan.chart_directory),
                chart_root: &plan.chart_directory,
                values_files: values_files
                    .iter()
                    .map(|(path, _)| root.join(path))
                    .collect(),
                values: &values,
                key: &key,
                hidden_prefix: format!("{}/", root.display()),
                fallback: at("/spec/helm", String::new()),
            },
            context.settings,
        )
        .map_err(|found| {
            Diagnostics(
                found
                    .0
                    .into_iter()
                    .map(|problem| problem.for_app(&app.name))
                    .collect(),
            )
        })
    });
    let mut objects = match &*output {
        Ok(objects) => objects.clone(),
        Err(found) => return Err(found.clone()),
    };
    let mut patches = plan.overlays.clone();
    for patch in &mut patches {
        let mut errors = Vec::new();
        substitute(&mut patch.value, "", lookup, &mut errors);
        for (pointer, message) in errors {
            problems.push(Diagnostic::in_document(patch, &pointer, message).for_app(&app.name));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    apply_overlays(&mut objects, &patches, app.spec.namespace.as_deref())?;
    Ok(objects)
}

/// sha256 over the paths and bytes of every file under `directory`.
fn tree_digest(snapshot: &Snapshot, directory: &str) -> Result<String, Diagnostics> {
    let mut hasher = Sha256::new();
    for path in snapshot.paths_under(directory) {
        let bytes = snapshot
            .read_bytes(path)
            .map_err(|error| Diagnostic::from_source_error(&error))?
            .unwrap_or_default();
        hasher.update(path.len().to_le_bytes());
        hasher.update(path.as_bytes());
        hasher.update(bytes.len().to_le_bytes());
        hasher.update(bytes);
    }
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}
