//! Following the fleet repository: a bare mirror per node, fetched by the
//! leader on an interval and on a signed webhook, every new commit rendered
//! for every cluster and its verdict written to the replicated state.

mod mirror;
mod sync;
mod verdict;
mod webhook;

pub use mirror::{FetchedRevision, GitError, GitMirror};
pub use sync::{GitSync, RenderedRevisions, SyncOutcome};
pub use webhook::{SIGNATURE_HEADER, verify_signature};
