//! Stage three of rendering, done once per shared input: an app's finished
//! objects with a hole where the cluster's name goes.
//!
//! After variables are substituted, what is left per cluster is only the
//! `fleet/cluster` label: defaults, identity, apply order and canonical
//! serialization are the same for every cluster that shares the substituted
//! objects. So each object is finished and serialized once with a
//! placeholder in that label, and split around it; a cluster's object is
//! `prefix + "name" + suffix` and its sha256 — no copy of the object tree,
//! no second serialization. At 10,000 clusters this was most of a render.

use std::collections::HashMap;

use serde_json::Value;

use super::canonical::{canonical_bytes, canonicalize_in_place, digest};
use super::kinds::{ApplyBucket, apply_bucket, builtin_scope};
use super::object::{ObjectKey, SourceObject, group_of};
use super::output::{AppRender, RenderedObject};
use super::renderer::{APP_LABEL, CLUSTER_LABEL, FALLBACK_NAMESPACE};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::App;

/// Stands in for the cluster's name while an object is serialized. Its JSON
/// form (NUL bytes escaped) cannot come out of a YAML scalar by accident.
const PLACEHOLDER: &str = "\u{0}fleet-cluster-name\u{0}";

/// One finished object, its canonical JSON split at the cluster's name.
#[derive(Debug)]
struct ObjectTemplate {
    key: ObjectKey,
    source: String,
    /// Canonical JSON up to the cluster label's value (without its quote).
    prefix: String,
    /// Canonical JSON after the cluster label's value (without its quote).
    suffix: String,
    /// Whether the object names no namespace and its kind's scope is not
    /// known here: the agent decides from discovery.
    unscoped: bool,
}

/// One app's finished objects, in apply order, for any cluster.
#[derive(Debug)]
pub(super) struct AppTemplate {
    objects: Vec<ObjectTemplate>,
    /// Whether any object's scope is left to the agent.
    unscoped: bool,
}

/// Custom kinds' scopes: (group, kind) → namespaced.
pub(super) type Scopes = HashMap<(String, String), bool>;

impl AppTemplate {
    /// Finishes `objects` of `app`: namespace and label defaults, identity,
    /// apply order, canonical JSON. Problems name the app, not a cluster.
    pub(super) fn build(
        app: &App,
        objects: &[SourceObject],
        scopes: &Scopes,
    ) -> Result<Self, Diagnostics> {
        let mut problems = Diagnostics::new();
        let mut finished = Vec::with_capacity(objects.len());
        for object in objects {
            match finish(app, object, scopes) {
                Ok(template) => finished.push(template),
                Err(message) => problems.push(
                    Diagnostic::at(object.origin.file.clone(), object.origin.line, message)
                        .for_app(&app.name),
                ),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        finished.sort_by(|a, b| order(&a.key).cmp(&order(&b.key)));
        let unscoped = finished.iter().any(|template| template.unscoped);
        Ok(Self {
            objects: finished,
            unscoped,
        })
    }

    /// The app's desired state on `cluster`.
    pub(super) fn render(&self, app: &App, cluster: &str) -> AppRender {
        // Cluster names are DNS labels, but escape them as JSON anyway.
        let quoted = serde_json::to_string(cluster).unwrap_or_default();
        let name = &quoted[1..quoted.len() - 1];
        let objects: Vec<RenderedObject> = self
            .objects
            .iter()
            .map(|template| {
                let mut json = String::with_capacity(
                    template.prefix.len() + name.len() + template.suffix.len(),
                );
                json.push_str(&template.prefix);
                json.push_str(name);
                json.push_str(&template.suffix);
                RenderedObject {
                    key: template.key.clone(),
                    digest: digest(json.as_bytes()),
                    canonical_json: json,
                    source: template.source.clone(),
                }
            })
            .collect();
        let namespace = app_namespace(app).to_owned();
        let mut digest_of_app = AppRender::digest_of(&objects);
        if self.unscoped {
            // The agent puts the unscoped objects of a namespaced kind in
            // the app's namespace: a new namespace must change the digest.
            // Apps without such objects keep the digest of their objects.
            digest_of_app = digest(format!("{digest_of_app}\nnamespace={namespace}").as_bytes());
        }
        AppRender {
            app: app.name.clone(),
            namespace,
            sync: app.spec.sync,
            depends_on: app.spec.depends_on.clone(),
            ignore_differences: app.spec.ignore_differences.clone(),
            health_timeout: app.spec.health_timeout,
            digest: digest_of_app,
            objects,
        }
    }
}

/// The apply order: the kind's bucket, then name, namespace, kind, group.
fn order(key: &ObjectKey) -> (ApplyBucket, &str, &Option<String>, &str, &str) {
    (
        apply_bucket(&key.group, &key.kind),
        &key.name,
        &key.namespace,
        &key.kind,
        &key.group,
    )
}

fn finish(app: &App, object: &SourceObject, scopes: &Scopes) -> Result<ObjectTemplate, String> {
    let mut value = object.value.clone();
    let Some(map) = value.as_object_mut() else {
        return Err("a manifest must be a mapping (a Kubernetes object)".to_owned());
    };
    let (Some(api_version), Some(kind)) = (
        map.get("apiVersion").and_then(Value::as_str),
        map.get("kind").and_then(Value::as_str),
    ) else {
        return Err("a manifest needs apiVersion and kind".to_owned());
    };
    let group = group_of(api_version).to_owned();
    let kind = kind.to_owned();
    // Known scope: a built-in kind, or a CRD the cluster receives from the
    // repository. Unknown (a CRD installed by something else): not guessed.
    let namespaced = builtin_scope(&group, &kind).or_else(|| scopes.get(&(group, kind)).copied());
    let metadata = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    let Some(metadata) = metadata.as_object_mut() else {
        return Err("metadata must be a mapping".to_owned());
    };
    match namespaced {
        Some(true) if !metadata.contains_key("namespace") => {
            metadata.insert(
                "namespace".to_owned(),
                Value::String(app_namespace(app).to_owned()),
            );
        }
        Some(false) => {
            metadata.remove("namespace");
        }
        _ => {}
    }
    let unscoped = namespaced.is_none() && !metadata.contains_key("namespace");
    let labels = metadata
        .entry("labels")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    let Some(labels) = labels.as_object_mut() else {
        return Err("metadata.labels must be a mapping".to_owned());
    };
    labels.insert(APP_LABEL.to_owned(), Value::String(app.name.clone()));
    labels.insert(
        CLUSTER_LABEL.to_owned(),
        Value::String(PLACEHOLDER.to_owned()),
    );
    let key = ObjectKey::of(&value).map_err(|missing| format!("invalid manifest: {missing}"))?;
    canonicalize_in_place(&mut value);
    // serde_json writes UTF-8; the fallback is never taken.
    let json = String::from_utf8(canonical_bytes(&value)).unwrap_or_default();
    let hole = serde_json::to_string(PLACEHOLDER).unwrap_or_default();
    let hole = &hole[1..hole.len() - 1];
    let mut parts = json.split(hole);
    let (Some(prefix), Some(suffix), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "a manifest may not contain the text fleet reserves for the cluster label ({hole})"
        ));
    };
    Ok(ObjectTemplate {
        key,
        source: format!("{}:{}", object.origin.file, object.origin.line),
        prefix: prefix.to_owned(),
        suffix: suffix.to_owned(),
        unscoped,
    })
}

/// The namespace of an app's namespaced objects that name none: its
/// `spec.namespace`, else `default` (as kubectl would).
fn app_namespace(app: &App) -> &str {
    app.spec.namespace.as_deref().unwrap_or(FALLBACK_NAMESPACE)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sha2::{Digest, Sha256};

    use crate::render::{APP_LABEL, CLUSTER_LABEL, Renderer};
    use crate::repository::FleetRepository;
    use crate::test_support::example;

    #[test]
    fn each_cluster_gets_its_name_in_the_label_and_the_digest_of_its_bytes() {
        let repository = FleetRepository::load(example(&[])).unwrap();
        let renderer = Renderer::with_settings(
            Arc::new(repository),
            crate::test_support::example_settings(),
        );
        for cluster in ["dev-eu-1", "dev-us-1"] {
            let render = renderer.render_cluster(cluster).unwrap();
            assert!(render.objects().count() > 0);
            for (_, object) in render.objects() {
                let value = object.value();
                assert_eq!(
                    value["metadata"]["labels"][CLUSTER_LABEL], cluster,
                    "{}",
                    object.canonical_json
                );
                // The bytes are canonical: parsing and writing them again
                // gives the same bytes.
                assert_eq!(
                    serde_json::to_string(&value).unwrap(),
                    object.canonical_json
                );
                let expected = format!(
                    "sha256:{}",
                    hex::encode(Sha256::digest(object.canonical_json.as_bytes()))
                );
                assert_eq!(object.digest, expected);
            }
        }
        // The work is shared: two clusters, one template per app.
        assert!(renderer.stats().app_renders >= 2);
    }

    #[test]
    fn clusters_rendered_on_many_threads_at_once_get_only_their_own_apps_objects() {
        // Threads racing to build the same shared entry once let one app's
        // template be found under another app (a cache keyed by address).
        let repository = Arc::new(FleetRepository::load(example(&[])).unwrap());
        let clusters: Vec<String> = repository.clusters.keys().cloned().collect();
        for _ in 0..4 {
            let renderer = Renderer::with_settings(
                repository.clone(),
                crate::test_support::example_settings(),
            );
            std::thread::scope(|scope| {
                for _ in 0..4 {
                    scope.spawn(|| {
                        for cluster in &clusters {
                            let render = renderer.render_cluster(cluster).unwrap();
                            for (app, object) in render.objects() {
                                let value = object.value();
                                assert_eq!(value["metadata"]["labels"][APP_LABEL], app.app);
                                assert_eq!(
                                    value["metadata"]["labels"][CLUSTER_LABEL],
                                    cluster.as_str()
                                );
                                assert!(
                                    object.source.starts_with(&format!("apps/{}/", app.app)),
                                    "{} in app {}",
                                    object.source,
                                    app.app
                                );
                            }
                        }
                    });
                }
            });
        }
    }

    #[test]
    fn an_app_renders_in_apply_order_with_webhooks_last() {
        // One file, written in the worst order.
        let manifest = "\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: a-webhook}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: a-widget}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: a-deployment}
---
apiVersion: v1
kind: LimitRange
metadata: {name: z-limits}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: a-quota}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: z-storage}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: z-priority}
";
        let repository =
            FleetRepository::load(example(&[("apps/web/base/extra.yaml", manifest)])).unwrap();
        let renderer = Renderer::with_settings(
            Arc::new(repository),
            crate::test_support::example_settings(),
        );
        let render = renderer.render_cluster("dev-eu-1").unwrap();
        let kinds: Vec<&str> = render
            .objects()
            .filter(|(app, _)| app.app == "web")
            .map(|(_, object)| object.key.kind.as_str())
            .collect();
        let position = |kind: &str| {
            kinds
                .iter()
                .position(|known| *known == kind)
                .unwrap_or_else(|| panic!("{kind} not in {kinds:?}"))
        };
        assert!(
            position("PriorityClass") < position("StorageClass"),
            "{kinds:?}"
        );
        assert!(
            position("StorageClass") < position("LimitRange"),
            "{kinds:?}"
        );
        assert!(
            position("ResourceQuota") < position("ConfigMap"),
            "{kinds:?}"
        );
        assert!(position("LimitRange") < position("Deployment"), "{kinds:?}");
        assert!(position("Deployment") < position("Widget"), "{kinds:?}");
        assert_eq!(kinds.last(), Some(&"ValidatingWebhookConfiguration"));
    }

    /// The web app's render on dev-eu-1 with `edits` to the example fleet.
    fn web_app(edits: &[(&str, &str)]) -> crate::render::AppRender {
        let repository = FleetRepository::load(example(edits)).unwrap();
        let renderer = Renderer::with_settings(
            Arc::new(repository),
            crate::test_support::example_settings(),
        );
        let render = renderer.render_cluster("dev-eu-1").unwrap();
        render
            .apps
            .into_iter()
            .find(|app| app.app == "web")
            .unwrap()
    }

    const UNKNOWN_KINDS: &str = "\
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: letsencrypt}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: gizmo}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: placed, namespace: elsewhere}
";

    #[test]
    fn kinds_of_unknown_scope_get_no_namespace_by_guess() {
        let app = web_app(&[("apps/web/base/custom.yaml", UNKNOWN_KINDS)]);
        let namespace_of = |name: &str| {
            let object = app
                .objects
                .iter()
                .find(|object| object.key.name == name)
                .unwrap();
            (
                object.key.namespace.clone(),
                object.value()["metadata"]["namespace"].clone(),
            )
        };
        assert_eq!(namespace_of("letsencrypt"), (None, serde_json::Value::Null));
        assert_eq!(namespace_of("gizmo"), (None, serde_json::Value::Null));
        // What the manifest says is kept.
        assert_eq!(namespace_of("placed").0.as_deref(), Some("elsewhere"));
        // Known kinds still get the app's namespace, which travels with the app.
        assert_eq!(namespace_of("web-config").0.as_deref(), Some("web"));
        assert_eq!(app.namespace, "web");
    }

    #[test]
    fn a_crd_in_the_repository_gives_its_kinds_scope() {
        let crd = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, kind: Gadget}
  versions: [{name: v1, served: true, storage: true}]
";
        let app = web_app(&[
            ("apps/web/base/custom.yaml", UNKNOWN_KINDS),
            ("apps/web/base/gadget-crd.yaml", crd),
        ]);
        let gizmo = app
            .objects
            .iter()
            .find(|object| object.key.name == "gizmo")
            .unwrap();
        assert_eq!(gizmo.key.namespace.as_deref(), Some("web"));
    }

    #[test]
    fn the_app_namespace_counts_in_the_digest_only_when_the_agent_uses_it() {
        let moved = "apiVersion: fleet/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  namespace: moved\n";
        // Known kinds only: the digest is the digest of the objects, as before.
        let known = web_app(&[]);
        assert_eq!(
            known.digest,
            crate::render::AppRender::digest_of(&known.objects)
        );
        // With an object the agent places: a new app namespace is a new
        // digest even though no object's bytes change.
        let custom = ("apps/web/base/custom.yaml", UNKNOWN_KINDS);
        let before = web_app(&[custom]);
        let after = web_app(&[custom, ("apps/web/app.yaml", moved)]);
        assert_ne!(
            before.digest,
            crate::render::AppRender::digest_of(&before.objects)
        );
        let gizmo = |app: &crate::render::AppRender| {
            app.objects
                .iter()
                .find(|object| object.key.name == "gizmo")
                .unwrap()
                .digest
                .clone()
        };
        assert_eq!(gizmo(&before), gizmo(&after));
        assert_ne!(before.digest, after.digest);
    }

    #[test]
    fn a_manifest_holding_the_reserved_text_is_refused_with_its_file() {
        let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  trick: \"\\0fleet-cluster-name\\0\"\n";
        let repository =
            FleetRepository::load(example(&[("apps/web/base/configmap.yaml", manifest)])).unwrap();
        let renderer = Renderer::with_settings(
            Arc::new(repository),
            crate::test_support::example_settings(),
        );
        let problems = renderer.render_cluster("dev-eu-1").unwrap_err().to_string();
        assert!(
            problems.contains("apps/web/base/configmap.yaml"),
            "{problems}"
        );
        assert!(problems.contains("reserves"), "{problems}");
    }
}
