//! Stage one of rendering an app: its manifests for one environment, before
//! variables — base files or a Kustomize build, plus plain overlays; for a
//! Helm app, its located chart and overlays (Helm runs in stage two).
//!
//! This stage depends only on the app and the environment, so the renderer
//! does it once per (app, environment) and shares it across clusters.

use std::collections::BTreeSet;
use std::path::Path;

use super::helm::HelmPlan;
use super::kustomize;
use super::object::{Origin, SourceObject};
use super::overlay::apply_overlays;
use super::settings::RenderSettings;
use super::variables::referenced_variables;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::App;
use crate::source::Snapshot;
use crate::yaml::{YamlDocument, parse_documents};

/// An app's manifests for one environment, variables not yet substituted.
#[derive(Debug, Clone)]
pub struct AppSource {
    /// The objects, with their origins.
    pub objects: Vec<SourceObject>,
    /// Every variable the objects reference (the inputs of stage two).
    pub variables: BTreeSet<String>,
    /// For a Helm app: its chart and overlays (the objects come from Helm
    /// in stage two, once the values are substituted).
    pub helm: Option<HelmPlan>,
}

/// Reads (or builds) the manifests of `app` for `environment`.
pub fn load(
    snapshot: &Snapshot,
    export_root: &dyn Fn() -> Result<std::sync::Arc<Path>, Diagnostic>,
    settings: &RenderSettings,
    app: &App,
    environment: &str,
) -> Result<AppSource, Diagnostics> {
    let base = format!("apps/{}/base", app.name);
    let overlay = format!("apps/{}/overlays/{environment}", app.name);
    let namespace = app.spec.namespace.as_deref();
    if let Some(helm) = &app.spec.helm {
        let overlays = yaml_documents(snapshot, &overlay)?;
        let (plan, variables) = super::helm::plan(snapshot, settings, app, helm, overlays)?;
        return Ok(AppSource {
            objects: Vec::new(),
            variables,
            helm: Some(plan),
        });
    }
    let mut objects = if let Some(kustomization) = kustomize::kustomization_in(snapshot, &overlay) {
        let objects = kustomize_objects(snapshot, export_root, settings, &overlay, &kustomization)?;
        return finish(objects);
    } else if let Some(kustomization) = kustomize::kustomization_in(snapshot, &base) {
        kustomize_objects(snapshot, export_root, settings, &base, &kustomization)?
    } else {
        let documents = yaml_documents(snapshot, &base)?;
        if documents.is_empty() {
            return Err(app
                .diagnostic(
                    "",
                    format!("app '{}' has no manifests in {base}/", app.name),
                )
                .for_app(&app.name)
                .into());
        }
        documents
            .iter()
            .map(|document| SourceObject {
                value: document.value.clone(),
                origin: Origin::of_document(document),
                patches: Vec::new(),
            })
            .collect()
    };
    let patches = yaml_documents(snapshot, &overlay)?;
    apply_overlays(&mut objects, &patches, namespace)?;
    finish(objects)
}

fn finish(objects: Vec<SourceObject>) -> Result<AppSource, Diagnostics> {
    let mut variables = BTreeSet::new();
    for object in &objects {
        referenced_variables(&object.value, &mut variables);
    }
    Ok(AppSource {
        objects,
        variables,
        helm: None,
    })
}

fn kustomize_objects(
    snapshot: &Snapshot,
    export_root: &dyn Fn() -> Result<std::sync::Arc<Path>, Diagnostic>,
    settings: &RenderSettings,
    folder: &str,
    kustomization: &str,
) -> Result<Vec<SourceObject>, Diagnostics> {
    kustomize::check_references(snapshot, folder)?;
    let root = export_root()?;
    let documents = kustomize::build(&root, folder, kustomization, settings)?;
    Ok(documents
        .into_iter()
        .map(|document| SourceObject {
            origin: Origin {
                file: kustomization.to_owned(),
                line: 1,
                lines: None,
            },
            value: document.value,
            patches: Vec::new(),
        })
        .collect())
}

/// Every document of the `*.yaml` / `*.yml` files directly in `folder`.
fn yaml_documents(snapshot: &Snapshot, folder: &str) -> Result<Vec<YamlDocument>, Diagnostics> {
    let mut documents = Vec::new();
    let mut problems = Diagnostics::new();
    for path in snapshot.files_in(folder) {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            continue;
        }
        match snapshot.read_text(path) {
            Ok(Some(text)) => match parse_documents(path, text) {
                Ok(parsed) => documents.extend(parsed),
                Err(error) => problems.push(error.into()),
            },
            Ok(None) => {}
            Err(error) => problems.push(Diagnostic::from_source_error(&error)),
        }
    }
    if problems.is_empty() {
        Ok(documents)
    } else {
        Err(problems)
    }
}
