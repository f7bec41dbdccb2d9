//! The renderer: one cluster's desired state from a loaded repository, with
//! work shared across clusters whose inputs are equal.
//!
//! Rendering an app for a cluster has two stages. Stage one (base, Kustomize,
//! overlays) depends only on (app, environment) and is cached per pair.
//! Stage two substitutes variables; its inputs are the values of exactly the
//! variables the app references, so its output is cached by those values and
//! shared by every cluster that resolves them alike. What is left per cluster
//! is cheap: namespace and label defaults, sorting and digests.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use super::app_source::{self, AppSource};
use super::canonical::{canonical_bytes, canonicalize_in_place, digest};
use super::kinds::{apply_rank, is_cluster_scoped_builtin};
use super::object::{ObjectKey, SourceObject, group_of};
use super::output::{AppRender, ClusterRender, RenderedObject};
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
}

/// Renders clusters of one repository revision; cheap to share across threads.
pub struct Renderer {
    repository: Arc<FleetRepository>,
    sources: Mutex<HashMap<SourceKey, Shared<AppSource>>>,
    substitutions: Mutex<HashMap<SubstitutionKey, Shared<Vec<SourceObject>>>>,
    export: OnceLock<Result<(tempfile::TempDir, Arc<Path>), String>>,
    sources_built: AtomicUsize,
    substitutions_built: AtomicUsize,
    substitutions_reused: AtomicUsize,
    app_renders: AtomicUsize,
}

impl Renderer {
    /// A renderer for `repository`.
    pub fn new(repository: Arc<FleetRepository>) -> Self {
        Self {
            repository,
            sources: Mutex::default(),
            substitutions: Mutex::default(),
            export: OnceLock::new(),
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
        }
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
        for (app, source) in &sources {
            let substituted = self.substitute(app, cluster, source);
            match &*substituted {
                Ok(objects) => match finish_app(app, cluster, objects, &scopes) {
                    Ok(app_render) => {
                        self.app_renders.fetch_add(1, Ordering::Relaxed);
                        rendered.push(app_render);
                    }
                    Err(found) => problems.0.extend(found.0),
                },
                Err(found) => problems.0.extend(found.0.iter().cloned()),
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
        let built = app_source::load(&self.repository.snapshot, &export, app, environment).map_err(
            |found| Diagnostics(found.0.into_iter().map(|p| p.for_app(&app.name)).collect()),
        );
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

    fn substitute(
        &self,
        app: &App,
        cluster: &Cluster,
        source: &AppSource,
    ) -> Shared<Vec<SourceObject>> {
        let repository = &*self.repository;
        let Some(environment) = repository.environments.get(&cluster.spec.environment) else {
            return Arc::new(Err(Diagnostic::general(format!(
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
        let mut problems = Diagnostics::new();
        let mut objects = source.objects.clone();
        for object in &mut objects {
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
        let result = Arc::new(result);
        lock(&self.substitutions).insert(key, result.clone());
        result
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a cache half-written in a
    // way that matters: entries are inserted whole.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Scopes of the custom kinds defined by CRDs the cluster receives:
/// (group, kind) → namespaced.
fn custom_resource_scopes<'a>(
    objects: impl Iterator<Item = &'a SourceObject>,
) -> HashMap<(String, String), bool> {
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

/// Stage three: defaults, identity, sorting and digests for one cluster.
fn finish_app(
    app: &App,
    cluster: &Cluster,
    objects: &[SourceObject],
    scopes: &HashMap<(String, String), bool>,
) -> Result<AppRender, Diagnostics> {
    let mut problems = Diagnostics::new();
    let mut rendered = Vec::with_capacity(objects.len());
    for object in objects {
        let at = |message: String| {
            Diagnostic::at(object.origin.file.clone(), object.origin.line, message)
                .for_cluster(&cluster.name)
                .for_app(&app.name)
        };
        let mut value = object.value.clone();
        let Some(map) = value.as_object_mut() else {
            problems.push(at(
                "a manifest must be a mapping (a Kubernetes object)".to_owned()
            ));
            continue;
        };
        let (Some(api_version), Some(kind)) = (
            map.get("apiVersion")
                .and_then(Value::as_str)
                .map(str::to_owned),
            map.get("kind").and_then(Value::as_str).map(str::to_owned),
        ) else {
            problems.push(at("a manifest needs apiVersion and kind".to_owned()));
            continue;
        };
        let group = group_of(&api_version).to_owned();
        let namespaced = if is_cluster_scoped_builtin(&group, &kind) {
            false
        } else {
            scopes
                .get(&(group.clone(), kind.clone()))
                .copied()
                .unwrap_or(true)
        };
        let metadata = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        let Some(metadata) = metadata.as_object_mut() else {
            problems.push(at("metadata must be a mapping".to_owned()));
            continue;
        };
        if namespaced && !metadata.contains_key("namespace") {
            let namespace = app.spec.namespace.as_deref().unwrap_or(FALLBACK_NAMESPACE);
            metadata.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
        }
        if !namespaced {
            metadata.remove("namespace");
        }
        let labels = metadata
            .entry("labels")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(labels) = labels.as_object_mut() {
            labels.insert(APP_LABEL.to_owned(), Value::String(app.name.clone()));
            labels.insert(
                CLUSTER_LABEL.to_owned(),
                Value::String(cluster.name.clone()),
            );
        } else {
            problems.push(at("metadata.labels must be a mapping".to_owned()));
            continue;
        }
        let key = match ObjectKey::of(&value) {
            Ok(key) => key,
            Err(missing) => {
                problems.push(at(format!("invalid manifest: {missing}")));
                continue;
            }
        };
        canonicalize_in_place(&mut value);
        let bytes = canonical_bytes(&value);
        rendered.push(RenderedObject {
            key,
            digest: digest(&bytes),
            // serde_json writes UTF-8; the fallback is never taken.
            canonical_json: String::from_utf8(bytes).unwrap_or_default(),
            value,
            source: format!("{}:{}", object.origin.file, object.origin.line),
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    rendered.sort_by(|a, b| {
        (
            apply_rank(&a.key.kind),
            &a.key.name,
            &a.key.namespace,
            &a.key.kind,
            &a.key.group,
        )
            .cmp(&(
                apply_rank(&b.key.kind),
                &b.key.name,
                &b.key.namespace,
                &b.key.kind,
                &b.key.group,
            ))
    });
    Ok(AppRender {
        app: app.name.clone(),
        sync: app.spec.sync,
        depends_on: app.spec.depends_on.clone(),
        ignore_differences: app.spec.ignore_differences.clone(),
        health_timeout: app.spec.health_timeout,
        digest: AppRender::digest_of(&rendered),
        objects: rendered,
    })
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
