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
        errors: capped_errors(
            Diagnostics(all.problems)
                .grouped()
                .iter()
                .map(ToString::to_string)
                .collect(),
        ),
    }
}

/// Most errors a revision's verdict lists (they are replicated through
/// Raft and shown by `fleetctl`); the rest are counted.
pub const MAX_REVISION_ERRORS: usize = 100;
/// Longest single error kept in a verdict, in bytes.
pub const MAX_REVISION_ERROR_BYTES: usize = 4 * 1024;

/// The first [`MAX_REVISION_ERRORS`] errors, each cut to
/// [`MAX_REVISION_ERROR_BYTES`], and "… and N more errors" for the rest.
fn capped_errors(errors: Vec<String>) -> Vec<String> {
    let total = errors.len();
    let mut kept: Vec<String> = errors
        .into_iter()
        .take(MAX_REVISION_ERRORS)
        .map(|error| cut(error, MAX_REVISION_ERROR_BYTES))
        .collect();
    if total > MAX_REVISION_ERRORS {
        kept.push(format!("… and {} more errors", total - MAX_REVISION_ERRORS));
    }
    kept
}

fn cut(mut text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let dropped = text.len() - end;
    text.truncate(end);
    text.push_str(&format!("… [{dropped} more bytes]"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_error_list_keeps_the_first_errors_and_counts_the_rest() {
        let errors: Vec<String> = (0..250).map(|index| format!("error {index:03}")).collect();
        let capped = capped_errors(errors);
        assert_eq!(capped.len(), MAX_REVISION_ERRORS + 1);
        assert_eq!(capped[0], "error 000");
        assert_eq!(capped[MAX_REVISION_ERRORS], "… and 150 more errors");
        let long = capped_errors(vec!["é".repeat(10_000)]);
        assert!(long[0].len() <= MAX_REVISION_ERROR_BYTES + 32);
        assert!(long[0].ends_with("more bytes]"));
    }
}
