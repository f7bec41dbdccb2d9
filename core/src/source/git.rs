//! Reading a revision straight from a Git object database (no checkout).
//!
//! The tree is hostile input: every entry name must be one plain path
//! component, and every blob's size is checked from its object header
//! against [`ReadLimits`] before the blob is inflated.

use std::path::Path;
use std::sync::Arc;

use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};

use super::error::SourceError;
use super::limits::{ReadBudget, ReadLimits};
use super::path::unsafe_component;
use super::snapshot::{Entry, Snapshot};

/// Git's file mode for symbolic links.
const SYMLINK_MODE: i32 = 0o120_000;

pub(super) fn read_revision(
    path: &Path,
    revision: &str,
    limits: ReadLimits,
) -> Result<Snapshot, SourceError> {
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
    let database = repository.odb().map_err(git_error)?;
    let mut budget = ReadBudget::new(limits);
    // A blob referenced by many paths is held once in memory (it still
    // counts once per path against the budget: the export writes each).
    let mut blobs = std::collections::HashMap::new();
    let mut entries = Vec::new();
    let mut failure = None;
    tree.walk(TreeWalkMode::PreOrder, |root, entry| {
        let name = String::from_utf8_lossy(entry.name_bytes());
        let entry_path = format!("{root}{name}");
        let reason = if std::str::from_utf8(entry.name_bytes()).is_err() {
            Some("is not UTF-8")
        } else {
            unsafe_component(&name)
        };
        if let Some(reason) = reason {
            failure = Some(SourceError::UnsafeEntryName {
                path: entry_path.escape_debug().to_string(),
                reason,
            });
            return TreeWalkResult::Abort;
        }
        if entry.kind() != Some(ObjectType::Blob) {
            return TreeWalkResult::Ok;
        }
        match read_blob(
            &repository,
            &database,
            entry,
            &entry_path,
            &mut budget,
            &mut blobs,
        ) {
            Ok(content) => {
                entries.push((entry_path, content));
                TreeWalkResult::Ok
            }
            Err(error) => {
                failure = Some(error);
                TreeWalkResult::Abort
            }
        }
    })
    .or_else(|error| {
        // An aborted walk reports a user error; the reason is in `failure`.
        if failure.is_some() {
            Ok(())
        } else {
            Err(git_error(error))
        }
    })?;
    if let Some(error) = failure {
        return Err(match error {
            SourceError::Git { source, .. } => git_error(source),
            other => other,
        });
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

/// Reads one blob after checking its size from the object header, so a huge
/// blob is refused without being inflated.
fn read_blob(
    repository: &Repository,
    database: &git2::Odb<'_>,
    entry: &git2::TreeEntry<'_>,
    entry_path: &str,
    budget: &mut ReadBudget,
    blobs: &mut std::collections::HashMap<git2::Oid, Arc<[u8]>>,
) -> Result<Entry, SourceError> {
    let git_error = |source| SourceError::Git {
        path: repository.path().to_owned(),
        revision: String::new(),
        source,
    };
    let (size, _) = database.read_header(entry.id()).map_err(git_error)?;
    budget.take(entry_path, u64::try_from(size).unwrap_or(u64::MAX))?;
    let content = match blobs.get(&entry.id()) {
        Some(content) => content.clone(),
        None => {
            let blob = repository.find_blob(entry.id()).map_err(git_error)?;
            let content: Arc<[u8]> = Arc::from(blob.content());
            blobs.insert(entry.id(), content.clone());
            content
        }
    };
    Ok(if entry.filemode() == SYMLINK_MODE {
        Entry::Symlink(String::from_utf8_lossy(&content).into_owned())
    } else {
        Entry::File(content)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{git_with_input, literal_tree};

    /// A repository whose only commit holds `apps/<name>` (a file) next to a
    /// harmless `apps/ok.yaml`.
    fn repository_with_entry(name: &[u8]) -> (tempfile::TempDir, String) {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path();
        git_with_input(path, &["init", "--quiet", "--bare"], b"");
        let blob = git_with_input(path, &["hash-object", "-w", "--stdin"], b"boom\n");
        let apps = literal_tree(
            path,
            &[("100644", name, &blob), ("100644", b"ok.yaml", &blob)],
        );
        let root = literal_tree(path, &[("40000", b"apps", &apps)]);
        let commit = git_with_input(path, &["commit-tree", &root, "-m", "crafted"], b"");
        (directory, commit)
    }

    #[test]
    fn tree_entries_that_are_not_plain_components_are_refused_by_name() {
        for name in [
            &b"../x"[..],
            b"..",
            b".",
            b"/etc/x",
            b"a\\b",
            b".git",
            b".GIT",
            b"\xff",
        ] {
            let (directory, commit) = repository_with_entry(name);
            let error = read_revision(directory.path(), &commit, ReadLimits::default())
                .unwrap_err()
                .to_string();
            let shown = String::from_utf8_lossy(name).escape_debug().to_string();
            assert!(
                error.starts_with(&format!("apps/{shown}:1: tree entry name")),
                "{shown}: {error}"
            );
        }
        let (directory, commit) = repository_with_entry(b"plain.yaml");
        let snapshot = read_revision(directory.path(), &commit, ReadLimits::default()).unwrap();
        assert!(snapshot.contains("apps/plain.yaml"));
    }

    #[test]
    fn a_blob_over_the_limit_is_refused_naming_the_file_and_the_limit() {
        let (directory, commit) = repository_with_entry(b"plain.yaml");
        let limits = ReadLimits {
            max_file_bytes: 4,
            max_revision_bytes: 100,
        };
        let error = read_revision(directory.path(), &commit, limits)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("apps/plain.yaml:1: file is 5 bytes, over the limit of 4 bytes"),
            "{error}"
        );
        let limits = ReadLimits {
            max_file_bytes: 5,
            max_revision_bytes: 9,
        };
        let error = read_revision(directory.path(), &commit, limits)
            .unwrap_err()
            .to_string();
        assert!(error.contains("limit of 9 bytes of files"), "{error}");
    }
}
