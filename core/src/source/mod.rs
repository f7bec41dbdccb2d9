//! Where a fleet repository's files come from.
//!
//! A [`Snapshot`] is the repository's content at one revision, held in
//! memory: read straight from a Git object database at any branch, tag or
//! commit (no checkout), or from a plain directory for local work. Everything
//! downstream (loading, rendering, Kustomize exports) reads the snapshot, so
//! it never touches the working tree or anything outside the repository.

mod directory;
mod error;
mod git;
mod limits;
mod path;
mod snapshot;

pub use error::SourceError;
pub use limits::{DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_REVISION_BYTES, ReadLimits};
pub use path::{normalize_within, unsafe_component};
pub use snapshot::{Entry, Snapshot};
