//! Rendering a new revision for every cluster, on every core: the digests
//! that become the revision's verdict, or every error.
//!
//! Each cluster's render is handed to the desired-state cache as soon as it
//! is made and then dropped, so only digests stay here and the first push
//! of the revision to each session is a cache hit.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use fleet_core::{Diagnostic, Diagnostics, Renderer};

use super::sync::RenderedRevisions;

/// What rendering every cluster found.
#[derive(Debug, Default)]
pub struct ClusterDigests {
    /// Each cluster that rendered, with its digest.
    pub digests: BTreeMap<String, String>,
    /// Every error (`file:line: message (clusters …; apps …)`), sorted, each
    /// (file, line, message) once with the clusters and apps it was found for.
    pub errors: Vec<String>,
}

/// What one worker found, before repeats across clusters are merged.
#[derive(Default)]
struct Found {
    digests: BTreeMap<String, String>,
    problems: Vec<Diagnostic>,
}

/// Renders `clusters` of `renderer` at `revision` on one thread per core,
/// remembering each render in `rendered`.
pub fn render_every_cluster(
    renderer: &Renderer,
    clusters: &[&String],
    revision: &str,
    rendered: &dyn RenderedRevisions,
) -> ClusterDigests {
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let work = || {
        let mut found = Found::default();
        while let Some(name) = clusters.get(next.fetch_add(1, Ordering::Relaxed)) {
            match renderer.render_cluster(name) {
                Ok(render) => {
                    rendered.remember_render(revision, &render);
                    found.digests.insert((*name).clone(), render.digest);
                }
                Err(problems) => found.problems.extend(problems.0),
            }
        }
        found
    };
    let all = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
        let mut all = Found::default();
        for worker in workers {
            match worker.join() {
                Ok(found) => {
                    all.digests.extend(found.digests);
                    all.problems.extend(found.problems);
                }
                Err(_) => all
                    .problems
                    .push(Diagnostic::general("rendering panicked (a bug in fleet)")),
            }
        }
        all
    });
    ClusterDigests {
        digests: all.digests,
        errors: Diagnostics(all.problems)
            .grouped()
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}
