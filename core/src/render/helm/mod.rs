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
pub mod fetch;
mod run;
mod template_output;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
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
pub use fetch::{ChartDigest, ChartFetchSettings, RenderFetches, RepositoryCredential};
pub use run::HelmRuns;
use run::{HelmRun, HelmRunKey, run_template};

/// Stage one of a Helm app for one environment.
#[derive(Debug, Clone)]
pub struct HelmPlan {
    /// Where the chart is.
    chart: ChartLocation,
    /// sha256 over the chart's files.
    chart_digest: String,
    /// The environment's overlay patches, variables not yet substituted.
    overlays: Vec<YamlDocument>,
}

/// Where a Helm app's chart is.
#[derive(Debug, Clone)]
enum ChartLocation {
    /// A directory of the fleet repository (repository-relative).
    InRepository(String),
    /// An archive fetched from a Helm repository or OCI registry.
    Fetched {
        /// The cached `.tgz`.
        archive: PathBuf,
        /// How its files are named in diagnostics (`<repository>/<chart>-<version>`).
        root: String,
    },
}

impl ChartLocation {
    /// The chart as Helm gets it, and how its files are shown.
    fn path_and_root(&self, export_root: &Path) -> (PathBuf, String) {
        match self {
            Self::InRepository(directory) => (export_root.join(directory), directory.clone()),
            Self::Fetched { archive, root } => (archive.clone(), root.clone()),
        }
    }
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
    settings: &RenderSettings,
    fetches: &RenderFetches,
    app: &App,
    helm: &HelmSource,
    overlays: Vec<YamlDocument>,
) -> Result<(HelmPlan, BTreeSet<String>), Diagnostics> {
    let at = |pointer: &str, message: String| app.diagnostic(pointer, message).for_app(&app.name);
    let (chart, chart_digest) = match &helm.repository {
        Some(repository) => {
            let Some(version) = &helm.version else {
                return Err(at(
                    "/spec/helm/repository",
                    "spec.helm.version is required with spec.helm.repository (an exact version)"
                        .to_owned(),
                )
                .into());
            };
            let fetched = fetch::fetch(
                repository,
                &helm.chart,
                version,
                &settings.chart_fetch,
                fetches,
            )
            .map_err(|error| {
                at(
                    "/spec/helm/repository",
                    crate::diagnostic::error_chain(&error),
                )
            })?;
            let root = format!(
                "{}/{}-{version}",
                repository.trim_end_matches('/'),
                helm.chart
            );
            (
                ChartLocation::Fetched {
                    archive: fetched.archive,
                    root,
                },
                fetched.digest,
            )
        }
        None => {
            let directory = in_repository_chart(snapshot, app, helm)?;
            let digest = tree_digest(snapshot, &directory)?;
            (ChartLocation::InRepository(directory), digest)
        }
    };
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
            chart,
            chart_digest,
            overlays,
        },
        variables,
    ))
}

/// The repository-relative directory of an in-repo chart, which must hold a Chart.yaml.
fn in_repository_chart(
    snapshot: &Snapshot,
    app: &App,
    helm: &HelmSource,
) -> Result<String, Diagnostics> {
    let at = |pointer: &str, message: String| app.diagnostic(pointer, message).for_app(&app.name);
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
    Ok(chart_directory)
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
        let (chart_path, chart_root) = plan.chart.path_and_root(&root);
        run_template(
            &HelmRun {
                chart_path: &chart_path,
                chart_root: &chart_root,
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use crate::render::Renderer;
    use crate::repository::FleetRepository;
    use crate::test_support::directory_with_edits;

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    use crate::test_support::example_settings as settings;

    const CLUSTER: &str = "apiVersion: fleet/v1alpha1\nkind: Cluster\nmetadata:\n  name: NAME\n  \
                           labels:\n    env: ENV\nspec:\n  environment: ENV\n";

    fn cluster(name: &str, environment: &str) -> String {
        CLUSTER.replace("NAME", name).replace("ENV", environment)
    }

    #[test]
    fn clusters_with_equal_values_share_one_helm_run() {
        // Values depend on the environment only (no ${cluster.name}); a
        // fourth cluster in prod and a staging environment whose values
        // equal prod's (another file, same content, same ${replicas}).
        let app = "apiVersion: fleet/v1alpha1\nkind: App\nmetadata:\n  name: podinfo\nspec:\n  \
                   namespace: podinfo\n  helm:\n    chart: chart\n    releaseName: web\n    \
                   valuesFiles:\n      - values-${environment.name}.yaml\n    values:\n      \
                   replicaCount: ${replicas}\n";
        let staging = "apiVersion: fleet/v1alpha1\nkind: Environment\nmetadata:\n  name: staging\n\
                       spec:\n  vars:\n    replicas: 3\n";
        let prod_values = std::fs::read_to_string(
            workspace().join("ctl/tests/helm/fleet/apps/podinfo/values-prod.yaml"),
        )
        .unwrap();
        let snapshot = directory_with_edits(
            &workspace().join("ctl/tests/helm/fleet"),
            &[
                ("apps/podinfo/app.yaml", app),
                ("apps/podinfo/values-staging.yaml", &prod_values),
                ("environments/staging.yaml", staging),
                ("clusters/prod-ap-1.yaml", &cluster("prod-ap-1", "prod")),
                ("clusters/staging-1.yaml", &cluster("staging-1", "staging")),
            ],
        );
        let repository = Arc::new(FleetRepository::load(snapshot).unwrap());
        let renderer = Renderer::with_settings(repository, settings());
        let renders = renderer.render_all();
        assert_eq!(renders.len(), 5);
        for (cluster, render) in &renders {
            let render = render
                .as_ref()
                .unwrap_or_else(|problems| panic!("{cluster}: {problems}"));
            assert!(render.objects().count() > 5, "{cluster}");
        }
        let stats = renderer.stats();
        // dev and prod run Helm; staging reuses prod's output; the other
        // prod clusters reuse prod's substitution without asking Helm.
        assert_eq!(
            (stats.helm_runs, stats.helm_runs_reused),
            (2, 1),
            "{stats:?}"
        );
        let object_count = |name: &str| renders[name].as_ref().unwrap().apps[0].objects.len();
        assert_eq!(object_count("staging-1"), object_count("prod-eu-1"));
        assert_ne!(object_count("dev-1"), object_count("prod-eu-1"));
    }

    #[test]
    fn a_values_variable_that_is_defined_nowhere_is_an_error_at_app_yaml() {
        let app = "apiVersion: fleet/v1alpha1\nkind: App\nmetadata:\n  name: podinfo\nspec:\n  \
                   namespace: podinfo\n  helm:\n    chart: chart\n    values:\n      \
                   replicaCount: ${nosuch}\n";
        let snapshot = directory_with_edits(
            &workspace().join("ctl/tests/helm/fleet"),
            &[("apps/podinfo/app.yaml", app)],
        );
        let repository = Arc::new(FleetRepository::load(snapshot).unwrap());
        let renderer = Renderer::with_settings(repository, settings());
        let problems = renderer.render_cluster("dev-1").unwrap_err().to_string();
        assert!(
            problems.contains("apps/podinfo/app.yaml:10: unknown variable '${nosuch}'"),
            "{problems}"
        );
        assert_eq!(renderer.stats().helm_runs, 0);
    }
}
