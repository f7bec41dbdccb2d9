//! Rendering a new revision for every cluster, on every core: the digests
//! that become the revision's verdict, or every error.
//!
//! Each cluster's render is handed to the desired-state cache as soon as it
//! is made and then dropped, so only digests stay here and the first push
//! of the revision to each session is a cache hit.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use fleet_core::Renderer;

use super::sync::RenderedRevisions;

/// What rendering every cluster found.
#[derive(Debug, Default)]
pub struct ClusterDigests {
    /// Each cluster that rendered, with its digest.
    pub digests: BTreeMap<String, String>,
    /// Every error (`file:line: message (cluster, app)`), sorted, no repeats.
    pub errors: Vec<String>,
}

impl ClusterDigests {
    fn merge(&mut self, other: Self) {
        self.digests.extend(other.digests);
        self.errors.extend(other.errors);
    }
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
        let mut found = ClusterDigests::default();
        while let Some(name) = clusters.get(next.fetch_add(1, Ordering::Relaxed)) {
            match renderer.render_cluster(name) {
                Ok(render) => {
                    rendered.remember_render(revision, &render);
                    found.digests.insert((*name).clone(), render.digest);
                }
                Err(problems) => found
                    .errors
                    .extend(problems.0.iter().map(ToString::to_string)),
            }
        }
        found
    };
    let mut all = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
        let mut all = ClusterDigests::default();
        for worker in workers {
            all.merge(worker.join().unwrap_or_else(|_| ClusterDigests {
                errors: vec!["rendering panicked (a bug in fleet)".to_owned()],
                ..ClusterDigests::default()
            }));
        }
        all
    });
    all.errors.sort();
    all.errors.dedup();
    all
}
