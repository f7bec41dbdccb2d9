//! Stage one of rendering an app: its manifests for one environment, before
//! variables — base files or a Kustomize build, plus plain overlays; for a
//! Helm app, its located chart and overlays (Helm runs in stage two).
//!
//! This stage depends only on the app and the environment, so the renderer
//! does it once per (app, environment) and shares it across clusters.

use std::collections::BTreeSet;
use std::path::Path;

use super::helm::{HelmPlan, RenderFetches};
use super::kustomize;
use super::object::{Origin, SourceObject};
use super::overlay::apply_overlays;
use super::settings::RenderSettings;
use super::sops_envelope;
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
    fetches: &RenderFetches,
    app: &App,
    environment: &str,
) -> Result<AppSource, Diagnostics> {
    let base = format!("apps/{}/base", app.name);
    let overlay = format!("apps/{}/overlays/{environment}", app.name);
    let namespace = app.spec.namespace.as_deref();
    if let Some(helm) = &app.spec.helm {
        let overlays = yaml_documents(snapshot, &overlay)?;
        let (plan, variables) =
            super::helm::plan(snapshot, settings, fetches, app, helm, overlays)?;
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
        let objects = base_objects(snapshot, &base)?;
        if objects.is_empty() {
            return Err(app
                .diagnostic(
                    "",
                    format!("app '{}' has no manifests in {base}/", app.name),
                )
                .for_app(&app.name)
                .into());
        }
        objects
    };
    let patches = yaml_documents(snapshot, &overlay)?;
    if let Some(patch) = patches
        .iter()
        .find(|patch| sops_envelope::is_sops_document(&patch.value))
    {
        return Err(Diagnostic::in_document(
            patch,
            "",
            "an overlay may not be SOPS-encrypted: overlays are patches, and a patch cannot be applied to ciphertext",
        )
        .for_app(&app.name)
        .into());
    }
    apply_overlays(&mut objects, &patches, namespace)?;
    finish(objects)
}

fn finish(objects: Vec<SourceObject>) -> Result<AppSource, Diagnostics> {
    let mut variables = BTreeSet::new();
    // Variables never reach inside a SOPS envelope (its MAC would break).
    for object in objects
        .iter()
        .filter(|object| !sops_envelope::is_envelope(&object.value))
    {
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
    if documents
        .iter()
        .any(|document| sops_envelope::is_sops_document(&document.value))
    {
        return Err(Diagnostic::at(
            kustomization.to_owned(),
            1,
            "SOPS-encrypted manifests cannot go through Kustomize (it rewrites them, which breaks their MAC): put them in a plain app's base/",
        )
        .into());
    }
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

/// The objects of the base folder: each document of a plain file, and an
/// envelope (see `sops_envelope.rs`) for each document of a SOPS file.
fn base_objects(snapshot: &Snapshot, folder: &str) -> Result<Vec<SourceObject>, Diagnostics> {
    let mut objects = Vec::new();
    let mut problems = Diagnostics::new();
    for path in snapshot.files_in(folder) {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            continue;
        }
        let text = match snapshot.read_text(path) {
            Ok(Some(text)) => text,
            Ok(None) => continue,
            Err(error) => {
                problems.push(Diagnostic::from_source_error(&error));
                continue;
            }
        };
        let documents = match parse_documents(path, text) {
            Ok(documents) => documents,
            Err(error) => {
                problems.push(error.into());
                continue;
            }
        };
        let encrypted = documents
            .iter()
            .any(|document| sops_envelope::is_sops_document(&document.value));
        for (index, document) in documents.iter().enumerate() {
            let value = if encrypted {
                match sops_envelope::envelope(document, index, text) {
                    Ok(value) => value,
                    Err((pointer, message)) => {
                        problems.push(Diagnostic::in_document(document, &pointer, message));
                        continue;
                    }
                }
            } else {
                document.value.clone()
            };
            objects.push(SourceObject {
                value,
                origin: Origin::of_document(document),
                patches: Vec::new(),
            });
        }
    }
    if problems.is_empty() {
        Ok(objects)
    } else {
        Err(problems)
    }
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
