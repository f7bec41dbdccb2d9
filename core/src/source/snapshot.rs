//! The in-memory content of a fleet repository at one revision.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::error::SourceError;
use super::limits::ReadLimits;
use super::path::{normalize_within, parent, unsafe_component};

/// How many symlinks a path may go through before it is refused.
const MAX_SYMLINK_HOPS: usize = 16;

/// One entry of the repository tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A regular file and its bytes.
    File(Arc<[u8]>),
    /// A symbolic link and the path it points to, as written in the link.
    Symlink(String),
}

/// A fleet repository's files at one revision, read once into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    entries: BTreeMap<String, Entry>,
    revision: Option<String>,
    description: String,
}

impl Snapshot {
    /// Builds a snapshot from repository-relative paths and entries.
    pub fn from_entries(
        entries: impl IntoIterator<Item = (String, Entry)>,
        revision: Option<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            entries: entries.into_iter().collect(),
            revision,
            description: description.into(),
        }
    }

    /// Reads the tree of `revision` (branch, tag, commit id or any revspec)
    /// straight from the object database of the Git repository at `path`.
    /// Uses the default [`ReadLimits`].
    pub fn from_git(path: &Path, revision: &str) -> Result<Self, SourceError> {
        Self::from_git_with_limits(path, revision, ReadLimits::default())
    }

    /// [`Snapshot::from_git`] with explicit size limits.
    pub fn from_git_with_limits(
        path: &Path,
        revision: &str,
        limits: ReadLimits,
    ) -> Result<Self, SourceError> {
        super::git::read_revision(path, revision, limits)
    }

    /// Reads a plain directory (symlinks are recorded, never followed), with
    /// the default [`ReadLimits`].
    pub fn from_directory(path: &Path) -> Result<Self, SourceError> {
        Self::from_directory_with_limits(path, ReadLimits::default())
    }

    /// [`Snapshot::from_directory`] with explicit size limits.
    pub fn from_directory_with_limits(
        path: &Path,
        limits: ReadLimits,
    ) -> Result<Self, SourceError> {
        super::directory::read_directory(path, limits)
    }

    /// The commit id this snapshot was read at, for Git sources.
    pub fn revision(&self) -> Option<&str> {
        self.revision.as_deref()
    }

    /// A human description of where the snapshot came from.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Whether an entry (file or symlink) exists at `path`.
    pub fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(path)
    }

    /// The text of the file at `path`, following symlinks that stay inside
    /// the repository. `Ok(None)` when there is no such entry.
    pub fn read_text(&self, path: &str) -> Result<Option<&str>, SourceError> {
        let Some(bytes) = self.read_bytes(path)? else {
            return Ok(None);
        };
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| SourceError::NotText {
                path: path.to_owned(),
            })
    }

    /// The bytes of the file at `path`, following symlinks that stay inside
    /// the repository. `Ok(None)` when there is no such entry.
    pub fn read_bytes(&self, path: &str) -> Result<Option<&[u8]>, SourceError> {
        let mut current = path.to_owned();
        for _ in 0..MAX_SYMLINK_HOPS {
            match self.entries.get(&current) {
                None if current == path => return Ok(None),
                None => {
                    return Err(SourceError::DanglingSymlink {
                        path: path.to_owned(),
                    });
                }
                Some(Entry::File(bytes)) => return Ok(Some(bytes)),
                Some(Entry::Symlink(target)) => {
                    current = normalize_within(parent(&current), target).ok_or_else(|| {
                        SourceError::SymlinkEscapes {
                            path: path.to_owned(),
                            target: target.clone(),
                        }
                    })?;
                }
            }
        }
        Err(SourceError::DanglingSymlink {
            path: path.to_owned(),
        })
    }

    /// Paths of the entries directly inside `directory` (no recursion), sorted.
    pub fn files_in(&self, directory: &str) -> Vec<&str> {
        let prefix = directory_prefix(directory);
        self.entries
            .keys()
            .filter(|path| {
                path.strip_prefix(&prefix)
                    .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
            })
            .map(String::as_str)
            .collect()
    }

    /// Paths of every entry under `directory`, at any depth, sorted.
    pub fn paths_under(&self, directory: &str) -> Vec<&str> {
        let prefix = directory_prefix(directory);
        self.entries
            .keys()
            .filter(|path| path.starts_with(&prefix))
            .map(String::as_str)
            .collect()
    }

    /// Names of the directories directly inside `directory`, sorted.
    pub fn directories_in(&self, directory: &str) -> Vec<String> {
        let prefix = directory_prefix(directory);
        let mut names: Vec<String> = self
            .entries
            .keys()
            .filter_map(|path| path.strip_prefix(&prefix))
            .filter_map(|rest| rest.split_once('/').map(|(name, _)| name.to_owned()))
            .collect();
        names.dedup();
        names
    }

    /// Writes every file under `directory` (the whole tree for `""`) into
    /// `destination`, with symlinks replaced by the files they point to.
    /// Refuses links that leave the repository, and any path that is not
    /// made of plain components (the Git reader refuses those already; this
    /// is the second check, where the file is written).
    pub fn export(&self, directory: &str, destination: &Path) -> Result<(), SourceError> {
        let prefix = directory_prefix(directory);
        for path in self.entries.keys().filter(|path| path.starts_with(&prefix)) {
            let Some(bytes) = self.read_bytes(path)? else {
                continue;
            };
            let target = join_within(destination, path)?;
            if let Some(folder) = target.parent() {
                std::fs::create_dir_all(folder).map_err(|source| SourceError::Io {
                    path: folder.to_owned(),
                    source,
                })?;
            }
            std::fs::write(&target, bytes).map_err(|source| SourceError::Io {
                path: target.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

/// `destination` joined with the repository-relative `path`, refused unless
/// every component is plain and the result stays under `destination`.
fn join_within(destination: &Path, path: &str) -> Result<std::path::PathBuf, SourceError> {
    let escapes = || SourceError::ExportEscapes {
        path: path.escape_debug().to_string(),
    };
    let mut target = destination.to_path_buf();
    for component in path.split('/') {
        if unsafe_component(component).is_some() {
            return Err(escapes());
        }
        target.push(component);
    }
    let plain = target.strip_prefix(destination).is_ok_and(|relative| {
        relative
            .components()
            .all(|part| matches!(part, std::path::Component::Normal(_)))
    });
    if plain { Ok(target) } else { Err(escapes()) }
}

fn directory_prefix(directory: &str) -> String {
    let trimmed = directory.trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Entry {
        Entry::File(Arc::from(text.as_bytes()))
    }

    fn snapshot() -> Snapshot {
        Snapshot::from_entries(
            [
                ("fleet.yaml".to_owned(), file("a")),
                ("apps/web/app.yaml".to_owned(), file("b")),
                ("apps/web/base/x.yaml".to_owned(), file("c")),
                (
                    "apps/web/base/link.yaml".to_owned(),
                    Entry::Symlink("x.yaml".into()),
                ),
                (
                    "apps/web/base/evil.yaml".to_owned(),
                    Entry::Symlink("../../../../etc/passwd".into()),
                ),
                ("apps/db/app.yaml".to_owned(), file("d")),
            ],
            None,
            "test",
        )
    }

    #[test]
    fn export_refuses_paths_that_leave_the_export_directory() {
        let outside = tempfile::tempdir().unwrap();
        let export = outside.path().join("export");
        std::fs::create_dir(&export).unwrap();
        for evil in [
            "../x.yaml",
            "apps/../../x.yaml",
            "/x.yaml",
            "apps/.git/x.yaml",
            "a\\..\\x",
        ] {
            let snapshot = Snapshot::from_entries([(evil.to_owned(), file("boom"))], None, "test");
            let error = snapshot.export("", &export).unwrap_err().to_string();
            assert!(
                error.contains("leaves the export directory"),
                "{evil}: {error}"
            );
        }
        assert!(!outside.path().join("x.yaml").exists());
        assert_eq!(std::fs::read_dir(&export).unwrap().count(), 0);
    }

    #[test]
    fn lists_files_and_directories() {
        let snapshot = snapshot();
        assert_eq!(snapshot.directories_in("apps"), vec!["db", "web"]);
        assert_eq!(snapshot.files_in(""), vec!["fleet.yaml"]);
        assert_eq!(snapshot.files_in("apps/web"), vec!["apps/web/app.yaml"]);
    }

    #[test]
    fn follows_inner_symlinks_and_refuses_escaping_ones() {
        let snapshot = snapshot();
        assert_eq!(
            snapshot.read_text("apps/web/base/link.yaml").unwrap(),
            Some("c")
        );
        let error = snapshot.read_text("apps/web/base/evil.yaml").unwrap_err();
        assert!(
            error.to_string().contains("leaves the repository"),
            "{error}"
        );
        assert_eq!(snapshot.read_text("nope.yaml").unwrap(), None);
    }
}
