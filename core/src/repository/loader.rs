//! Reading the fleet files out of a snapshot.
//!
//! A file that fails to parse does not stop the others: the loader reads
//! everything it can and remembers the names of unreadable files, so the
//! cross-file checks still run (and do not report a follow-on "unknown
//! environment" for an environment whose file is merely broken).

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{App, Cluster, Environment, Fleet, Kind, Resource, parse_resource};
use crate::source::Snapshot;
use crate::yaml::parse_single;

/// The fleet settings file at the repository root.
pub const FLEET_FILE: &str = "fleet.yaml";

/// Everything read from a snapshot, readable or not.
#[derive(Debug, Default)]
pub(super) struct LoadedFiles {
    pub fleet: Option<Fleet>,
    pub clusters: BTreeMap<String, Cluster>,
    pub environments: BTreeMap<String, Environment>,
    pub apps: BTreeMap<String, App>,
    /// Environments whose file exists but could not be read.
    pub unreadable_environments: BTreeSet<String>,
    /// Apps whose `app.yaml` exists but could not be read.
    pub unreadable_apps: BTreeSet<String>,
    /// Problems found while reading.
    pub problems: Diagnostics,
}

pub(super) fn load(snapshot: &Snapshot) -> LoadedFiles {
    let mut loaded = LoadedFiles::default();
    if snapshot.contains(FLEET_FILE) {
        loaded.fleet = read_resource(
            snapshot,
            FLEET_FILE,
            Kind::Fleet,
            None,
            &mut loaded.problems,
        );
    } else {
        loaded.problems.push(Diagnostic::general(format!(
            "{FLEET_FILE} is missing at the root of {}",
            snapshot.description()
        )));
    }
    let mut ignored = BTreeSet::new();
    loaded.clusters = read_folder(
        snapshot,
        "clusters",
        Kind::Cluster,
        &mut loaded.problems,
        &mut ignored,
    );
    loaded.environments = read_folder(
        snapshot,
        "environments",
        Kind::Environment,
        &mut loaded.problems,
        &mut loaded.unreadable_environments,
    );
    for name in snapshot.directories_in("apps") {
        let path = format!("apps/{name}/app.yaml");
        if !snapshot.contains(&path) {
            loaded.problems.push(
                Diagnostic::general(format!("apps/{name}/: missing app.yaml")).for_app(&name),
            );
            loaded.unreadable_apps.insert(name);
            continue;
        }
        match read_resource(
            snapshot,
            &path,
            Kind::App,
            Some(&name),
            &mut loaded.problems,
        ) {
            Some(app) => {
                loaded.apps.insert(name, app);
            }
            None => {
                loaded.unreadable_apps.insert(name);
            }
        }
    }
    loaded
}

fn read_folder<S: DeserializeOwned + Default>(
    snapshot: &Snapshot,
    folder: &str,
    kind: Kind,
    problems: &mut Diagnostics,
    unreadable: &mut BTreeSet<String>,
) -> BTreeMap<String, Resource<S>> {
    let mut resources = BTreeMap::new();
    for path in snapshot.files_in(folder) {
        let Some(stem) = path.rsplit('/').next().and_then(|file| {
            file.strip_suffix(".yaml")
                .or_else(|| file.strip_suffix(".yml"))
        }) else {
            continue;
        };
        match read_resource(snapshot, path, kind, Some(stem), problems) {
            Some(resource) => {
                resources.insert(stem.to_owned(), resource);
            }
            None => {
                unreadable.insert(stem.to_owned());
            }
        }
    }
    resources
}

fn read_resource<S: DeserializeOwned + Default>(
    snapshot: &Snapshot,
    path: &str,
    kind: Kind,
    expected_name: Option<&str>,
    problems: &mut Diagnostics,
) -> Option<Resource<S>> {
    let text = match snapshot.read_text(path) {
        Ok(Some(text)) => text,
        Ok(None) => return None,
        Err(error) => {
            problems.push(Diagnostic::from_source_error(&error));
            return None;
        }
    };
    let document = match parse_single(path, text) {
        Ok(document) => document,
        Err(error) => {
            problems.push(error.into());
            return None;
        }
    };
    match parse_resource(document, kind, expected_name) {
        Ok(resource) => Some(resource),
        Err(problem) => {
            problems.push(problem);
            None
        }
    }
}
