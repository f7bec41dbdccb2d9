//! Reading a revision straight from a Git object database (no checkout).

use std::path::Path;
use std::sync::Arc;

use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};

use super::error::SourceError;
use super::snapshot::{Entry, Snapshot};

/// Git's file mode for symbolic links.
const SYMLINK_MODE: i32 = 0o120_000;

pub(super) fn read_revision(path: &Path, revision: &str) -> Result<Snapshot, SourceError> {
    let repository = Repository::open(path).map_err(|source| SourceError::NotARepository {
        path: path.to_owned(),
        source,
    })?;
    let commit = repository
        .revparse_single(revision)
        .and_then(|object| object.peel_to_commit())
        .map_err(|source| SourceError::RevisionNotFound {
            revision: revision.to_owned(),
            path: path.to_owned(),
            source,
        })?;
    let git_error = |source| SourceError::Git {
        path: path.to_owned(),
        revision: revision.to_owned(),
        source,
    };
    let tree = commit.tree().map_err(git_error)?;
    let mut entries = Vec::new();
    let mut failure = None;
    tree.walk(TreeWalkMode::PreOrder, |root, entry| {
        if entry.kind() != Some(ObjectType::Blob) {
            return TreeWalkResult::Ok;
        }
        let Ok(name) = entry.name() else {
            return TreeWalkResult::Skip;
        };
        let blob = match repository.find_blob(entry.id()) {
            Ok(blob) => blob,
            Err(error) => {
                failure = Some(error);
                return TreeWalkResult::Abort;
            }
        };
        let content = if entry.filemode() == SYMLINK_MODE {
            Entry::Symlink(String::from_utf8_lossy(blob.content()).into_owned())
        } else {
            Entry::File(Arc::from(blob.content()))
        };
        entries.push((format!("{root}{name}"), content));
        TreeWalkResult::Ok
    })
    .map_err(git_error)?;
    if let Some(error) = failure {
        return Err(git_error(error));
    }
    let commit_id = commit.id().to_string();
    let description = format!(
        "{} at {}",
        path.display(),
        &commit_id[..12.min(commit_id.len())]
    );
    Ok(Snapshot::from_entries(
        entries,
        Some(commit_id),
        description,
    ))
}
