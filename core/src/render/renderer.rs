//! The renderer: one cluster's desired state from a loaded repository, with
//! work shared across clusters whose inputs are equal.
//!
//! Rendering an app for a cluster has two stages. Stage one (base, Kustomize,
//! overlays; for Helm apps the chart) depends only on (app, environment) and
//! is cached per pair.
//! Stage two substitutes variables; its inputs are the values of exactly the
//! variables the app references, so its output is cached by those values and
//! shared by every cluster that resolves them alike. Stage three (defaults,
//! apply order, canonical JSON) is done once per substitution too, with a
//! hole for the cluster's name ([`super::template`]); what is left per
//! cluster is filling the hole and the digests.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use super::app_source::{self, AppSource};
use super::helm::{self, ChartDigest, HelmContext, HelmRuns, RenderFetches};
use super::object::{ObjectKey, SourceObject};
use super::output::{AppRender, ClusterRender};
use super::settings::RenderSettings;
use super::template::{AppTemplate, Scopes};
use super::variables::{VariableScope, substitute};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{App, Cluster};
use crate::repository::FleetRepository;

/// Label naming the app an object belongs to.
pub const APP_LABEL: &str = "fleet/app";
/// Label naming the cluster an object was rendered for.
pub const CLUSTER_LABEL: &str = "fleet/cluster";
/// Namespace of namespaced objects when neither they nor their app name one.
pub const FALLBACK_NAMESPACE: &str = "default";

type SourceKey = (String, String);
type SubstitutionKey = (String, String, Vec<(String, Option<Value>)>);
type Shared<T> = Arc<Result<T, Diagnostics>>;
/// The custom kinds' scopes a cluster receives, sorted (a cache key).
type ScopesKey = Vec<((String, String), bool)>;

/// One entry of the substitution cache: an app's objects with one set of
/// variable values, and the templates finished from them (per scopes).
/// The templates live in the entry, so no other key can ever reach them.
struct Substituted {
    objects: Result<Vec<SourceObject>, Diagnostics>,
    templates: Mutex<HashMap<ScopesKey, Shared<AppTemplate>>>,
}

impl Substituted {
    fn new(objects: Result<Vec<SourceObject>, Diagnostics>) -> Arc<Self> {
        Arc::new(Self {
            objects,
            templates: Mutex::default(),
        })
    }
}

/// How much work the renderer did and how much it reused.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderStats {
    /// (app, environment) manifests read or built.
    pub sources_built: usize,
    /// Variable substitutions computed.
    pub substitutions_built: usize,
    /// Variable substitutions reused from another cluster.
    pub substitutions_reused: usize,
    /// App renders finished (one per app per cluster).
    pub app_renders: usize,
    /// `helm template` runs.
    pub helm_runs: usize,
    /// Helm outputs reused from another cluster or app with equal inputs.
    pub helm_runs_reused: usize,
}

/// Renders clusters of one repository revision; cheap to share across threads.
pub struct Renderer {
    repository: Arc<FleetRepository>,
    settings: RenderSettings,
    sources: Mutex<HashMap<SourceKey, Shared<AppSource>>>,
    substitutions: Mutex<HashMap<SubstitutionKey, Arc<Substituted>>>,
    export: OnceLock<Result<(tempfile::TempDir, Arc<Path>), String>>,
    helm_runs: HelmRuns,
    chart_fetches: RenderFetches,
    sources_built: AtomicUsize,
    substitutions_built: AtomicUsize,
    substitutions_reused: AtomicUsize,
    app_renders: AtomicUsize,
}

impl Renderer {
    /// A renderer for `repository` with the default [`RenderSettings`].
    pub fn new(repository: Arc<FleetRepository>) -> Self {
        Self::with_settings(repository, RenderSettings::default())
    }

    /// A renderer for `repository` under `settings`.
    pub fn with_settings(repository: Arc<FleetRepository>, settings: RenderSettings) -> Self {
        Self {
            repository,
            settings,
            sources: Mutex::default(),
            substitutions: Mutex::default(),
            export: OnceLock::new(),
            helm_runs: HelmRuns::default(),
            chart_fetches: RenderFetches::default(),
            sources_built: AtomicUsize::new(0),
            substitutions_built: AtomicUsize::new(0),
            substitutions_reused: AtomicUsize::new(0),
            app_renders: AtomicUsize::new(0),
        }
    }

    /// The repository being rendered.
    pub fn repository(&self) -> &FleetRepository {
        &self.repository
    }

    /// Work done so far.
    pub fn stats(&self) -> RenderStats {
        RenderStats {
            sources_built: self.sources_built.load(Ordering::Relaxed),
            substitutions_built: self.substitutions_built.load(Ordering::Relaxed),
            substitutions_reused: self.substitutions_reused.load(Ordering::Relaxed),
            app_renders: self.app_renders.load(Ordering::Relaxed),
            helm_runs: self.helm_runs.runs(),
            helm_runs_reused: self.helm_runs.reused(),
        }
    }

    /// Every remote chart (repository, chart, version) fetched so far and
    /// the digest of the archive used: what a verdict records.
    pub fn fetched_charts(&self) -> Vec<ChartDigest> {
        self.chart_fetches.charts()
    }

    /// Renders every cluster of the repository.
    pub fn render_all(&self) -> BTreeMap<String, Result<ClusterRender, Diagnostics>> {
        self.repository
            .clusters
            .keys()
            .map(|name| (name.clone(), self.render_cluster(name)))
            .collect()
    }

    /// Renders every cluster and returns every problem found (empty = valid).
    pub fn validate(&self) -> Diagnostics {
        let mut problems = Diagnostics::new();
        for result in self.render_all().into_values() {
            if let Err(found) = result {
                problems.0.extend(found.0);
            }
        }
        problems.sorted()
    }

    /// The complete desired state of `cluster_name`.
    pub fn render_cluster(&self, cluster_name: &str) -> Result<ClusterRender, Diagnostics> {
        let repository = &*self.repository;
        let cluster = repository.clusters.get(cluster_name).ok_or_else(|| {
            Diagnostic::general(format!(
                "unknown cluster '{cluster_name}' (no clusters/{cluster_name}.yaml in {})",
                repository.snapshot.description()
            ))
        })?;
        let apps = repository.apps_for(cluster);
        let mut problems = Diagnostics::new();
        // The shared sources themselves, not copies: copying every app's
        // manifests per cluster was a large share of rendering a big fleet.
        let mut shared = Vec::new();
        for app in &apps {
            let source = self.source(app, &cluster.spec.environment);
            match &*source {
                Ok(_) => shared.push((*app, source.clone())),
                Err(found) => problems
                    .0
                    .extend(found.0.iter().map(|p| p.clone().for_cluster(cluster_name))),
            }
        }
        let sources: Vec<(&App, &AppSource)> = shared
            .iter()
            .filter_map(|(app, source)| Some((*app, source.as_ref().as_ref().ok()?)))
            .collect();
        let scopes = custom_resource_scopes(sources.iter().flat_map(|(_, source)| &source.objects));
        let mut rendered = Vec::new();
        let scopes_key = scopes_key(&scopes);
        for (app, source) in &sources {
            let substituted = self.substitute(app, cluster, source);
            if let Err(found) = &substituted.objects {
                problems.0.extend(found.0.iter().cloned());
                continue;
            }
            match &*template(app, &substituted, &scopes, &scopes_key) {
                Ok(template) => {
                    self.app_renders.fetch_add(1, Ordering::Relaxed);
                    rendered.push(template.render(app, cluster_name));
                }
                Err(found) => problems.0.extend(
                    found
                        .0
                        .iter()
                        .map(|problem| problem.clone().for_cluster(cluster_name)),
                ),
            }
        }
        check_duplicates(&rendered, cluster_name, &mut problems);
        if !problems.is_empty() {
            return Err(problems.sorted());
        }
        Ok(ClusterRender {
            cluster: cluster.name.clone(),
            environment: cluster.spec.environment.clone(),
            revision: repository.snapshot.revision().map(str::to_owned),
            digest: ClusterRender::digest_of(&rendered),
            apps: rendered,
        })
    }

    fn source(&self, app: &App, environment: &str) -> Shared<AppSource> {
        let key = (app.name.clone(), environment.to_owned());
        if let Some(found) = lock(&self.sources).get(&key) {
            return found.clone();
        }
        self.sources_built.fetch_add(1, Ordering::Relaxed);
        let export = || self.export_root();
        let built = app_source::load(
            &self.repository.snapshot,
            &export,
            &self.settings,
            &self.chart_fetches,
            app,
            environment,
        )
        .map_err(|found| Diagnostics(found.0.into_iter().map(|p| p.for_app(&app.name)).collect()));
        let built = Arc::new(built);
        lock(&self.sources).insert(key, built.clone());
        built
    }

    fn export_root(&self) -> Result<Arc<Path>, Diagnostic> {
        let export = self.export.get_or_init(|| {
            let directory = tempfile::Builder::new()
                .prefix("fleet-render-")
                .tempdir()
                .map_err(|error| {
                    format!("creating a temporary directory for Kustomize: {error}")
                })?;
            self.repository
                .snapshot
                .export("", directory.path())
                .map_err(|error| crate::diagnostic::error_chain(&error))?;
            let path: Arc<Path> = Arc::from(directory.path());
            Ok((directory, path))
        });
        export
            .as_ref()
            .map(|(_, path)| path.clone())
            .map_err(|message| Diagnostic::general(message.clone()))
    }

    fn substitute(&self, app: &App, cluster: &Cluster, source: &AppSource) -> Arc<Substituted> {
        let repository = &*self.repository;
        let Some(environment) = repository.environments.get(&cluster.spec.environment) else {
            return Substituted::new(Err(Diagnostic::general(format!(
                "unknown environment '{}'",
                cluster.spec.environment
            ))
            .into()));
        };
        let scope = VariableScope {
            cluster,
            environment,
            fleet: &repository.fleet,
            app: &app.name,
        };
        let inputs: Vec<(String, Option<Value>)> = source
            .variables
            .iter()
            .map(|name| (name.clone(), scope.lookup(name)))
            .collect();
        let key = (app.name.clone(), cluster.spec.environment.clone(), inputs);
        if let Some(found) = lock(&self.substitutions).get(&key) {
            self.substitutions_reused.fetch_add(1, Ordering::Relaxed);
            return found.clone();
        }
        self.substitutions_built.fetch_add(1, Ordering::Relaxed);
        let lookup = |name: &str| scope.lookup(name);
        if let (Some(plan), Some(helm)) = (&source.helm, &app.spec.helm) {
            let export = || self.export_root();
            let context = HelmContext {
                snapshot: &repository.snapshot,
                export_root: &export,
                settings: &self.settings,
                runs: &self.helm_runs,
            };
            let result = helm::render(plan, app, helm, &lookup, &context).map_err(|found| {
                Diagnostics(
                    found
                        .0
                        .into_iter()
                        .map(|problem| problem.for_cluster(&cluster.name))
                        .collect(),
                )
            });
            return lock(&self.substitutions)
                .entry(key)
                .or_insert_with(|| Substituted::new(result))
                .clone();
        }
        let mut problems = Diagnostics::new();
        let mut objects = source.objects.clone();
        for object in &mut objects {
            if super::sops_envelope::is_envelope(&object.value) {
                continue;
            }
            let mut errors = Vec::new();
            substitute(&mut object.value, "", &lookup, &mut errors);
            for (pointer, message) in errors {
                let origin = object
                    .patches
                    .iter()
                    .rev()
                    .find(|patch| {
                        patch
                            .lines
                            .as_ref()
                            .is_some_and(|lines| lines.contains(&pointer))
                    })
                    .unwrap_or(&object.origin);
                problems.push(
                    Diagnostic::at(origin.file.clone(), origin.line_of(&pointer), message)
                        .for_cluster(&cluster.name)
                        .for_app(&app.name),
                );
            }
        }
        let result = if problems.is_empty() {
            Ok(objects)
        } else {
            Err(problems)
        };
        // Another thread may have built the same entry meanwhile: keep the
        // first, so every cluster shares one entry (and its templates).
        lock(&self.substitutions)
            .entry(key)
            .or_insert_with(|| Substituted::new(result))
            .clone()
    }
}

/// The finished template of `substituted` under `scopes`, built on first use.
fn template(
    app: &App,
    substituted: &Substituted,
    scopes: &Scopes,
    scopes_key: &ScopesKey,
) -> Shared<AppTemplate> {
    if let Some(found) = lock(&substituted.templates).get(scopes_key) {
        return found.clone();
    }
    let built = match &substituted.objects {
        Ok(objects) => AppTemplate::build(app, objects, scopes),
        Err(found) => Err(found.clone()),
    };
    lock(&substituted.templates)
        .entry(scopes_key.clone())
        .or_insert_with(|| Arc::new(built))
        .clone()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a cache half-written in a
    // way that matters: entries are inserted whole.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn scopes_key(scopes: &Scopes) -> ScopesKey {
    let mut key: ScopesKey = scopes
        .iter()
        .map(|(kind, namespaced)| (kind.clone(), *namespaced))
        .collect();
    key.sort();
    key
}

/// Scopes of the custom kinds defined by CRDs the cluster receives:
/// (group, kind) → namespaced.
fn custom_resource_scopes<'a>(objects: impl Iterator<Item = &'a SourceObject>) -> Scopes {
    objects
        .filter(|object| {
            object.value.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
        })
        .filter_map(|object| {
            let spec = object.value.get("spec")?;
            let group = spec.get("group")?.as_str()?.to_owned();
            let kind = spec.pointer("/names/kind")?.as_str()?.to_owned();
            let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
            Some(((group, kind), namespaced))
        })
        .collect()
}

/// An object may be rendered once per cluster: two apps (or two documents)
/// claiming it would fight over it.
fn check_duplicates(apps: &[AppRender], cluster: &str, problems: &mut Diagnostics) {
    let mut owners: HashMap<&ObjectKey, (&str, &str)> = HashMap::new();
    for app in apps {
        for object in &app.objects {
            if let Some((first_app, first_source)) =
                owners.insert(&object.key, (&app.app, &object.source))
            {
                let (file, line) = split_location(&object.source);
                problems.push(
                    Diagnostic::at(
                        file,
                        line,
                        format!(
                            "duplicate object {} (also rendered by app {first_app} from {first_source})",
                            object.key
                        ),
                    )
                    .for_cluster(cluster)
                    .for_app(&app.app),
                );
            }
        }
    }
}

fn split_location(location: &str) -> (String, u64) {
    match location.rsplit_once(':') {
        Some((file, line)) => (file.to_owned(), line.parse().unwrap_or(1)),
        None => (location.to_owned(), 1),
    }
}
