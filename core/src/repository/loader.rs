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
use crate::repository::FleetRepository;
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

pub(super) fn load(snapshot: &Snapshot, previous: Option<&FleetRepository>) -> LoadedFiles {
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
        &|path, stem| unchanged(snapshot, previous?, path, &previous?.clusters, stem),
        &mut loaded.problems,
        &mut ignored,
    );
    loaded.environments = read_folder(
        snapshot,
        "environments",
        Kind::Environment,
        &|path, stem| unchanged(snapshot, previous?, path, &previous?.environments, stem),
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

/// Reads every `*.yaml|yml` file of `folder`. A fleet may declare thousands
/// of clusters, so the files are parsed on every core; results and problems
/// are merged in path order, so the outcome does not depend on the threads.
fn read_folder<S: DeserializeOwned + Default + Send>(
    snapshot: &Snapshot,
    folder: &str,
    kind: Kind,
    reuse: &(dyn Fn(&str, &str) -> Option<Resource<S>> + Sync),
    problems: &mut Diagnostics,
    unreadable: &mut BTreeSet<String>,
) -> BTreeMap<String, Resource<S>> {
    let files: Vec<(&str, &str)> = snapshot
        .files_in(folder)
        .into_iter()
        .filter_map(|path| {
            let file = path.rsplit('/').next()?;
            let stem = file
                .strip_suffix(".yaml")
                .or_else(|| file.strip_suffix(".yml"))?;
            Some((path, stem))
        })
        .collect();
    let read_chunk = |chunk: &[(&str, &str)]| -> Vec<(String, Option<Resource<S>>, Diagnostics)> {
        chunk
            .iter()
            .map(|(path, stem)| {
                let mut found = Diagnostics::new();
                let resource = reuse(path, stem)
                    .or_else(|| read_resource(snapshot, path, kind, Some(stem), &mut found));
                ((*stem).to_owned(), resource, found)
            })
            .collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk_size = files.len().div_ceil(threads).max(PARALLEL_FROM);
    let chunks: Vec<Vec<_>> = if files.len() < PARALLEL_FROM {
        vec![read_chunk(&files)]
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = files
                .chunks(chunk_size)
                .map(|chunk| scope.spawn(move || read_chunk(chunk)))
                .collect();
            workers
                .into_iter()
                .zip(files.chunks(chunk_size))
                // A panicking parser is a bug; read that chunk again here so
                // its error surfaces on this thread.
                .map(|(worker, chunk)| worker.join().unwrap_or_else(|_| read_chunk(chunk)))
                .collect()
        })
    };
    let mut resources = BTreeMap::new();
    for (stem, resource, found) in chunks.into_iter().flatten() {
        problems.0.extend(found.0);
        match resource {
            Some(resource) => {
                resources.insert(stem, resource);
            }
            None => {
                unreadable.insert(stem);
            }
        }
    }
    resources
}

/// The resource `previous` parsed from `path`, when the file's bytes are
/// the same in `snapshot` (a repository that loaded had no problem in it).
fn unchanged<S: Clone>(
    snapshot: &Snapshot,
    previous: &FleetRepository,
    path: &str,
    resources: &BTreeMap<String, Resource<S>>,
    stem: &str,
) -> Option<Resource<S>> {
    let resource = resources.get(stem)?;
    if resource.document.file != path {
        return None;
    }
    let now = snapshot.read_text(path).ok()??;
    let before = previous.snapshot.read_text(path).ok()??;
    (now == before).then(|| resource.clone())
}

/// Below this many files a folder is read on one thread.
const PARALLEL_FROM: usize = 256;

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
