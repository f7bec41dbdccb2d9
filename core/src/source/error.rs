//! Errors reading a fleet repository.

use std::path::PathBuf;

/// Reading the repository failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The path is not a Git repository.
    #[error("{path}: not a Git repository")]
    NotARepository {
        /// Path that was opened.
        path: PathBuf,
        /// What git2 said.
        #[source]
        source: git2::Error,
    },
    /// The revision does not name a commit in the repository.
    #[error("revision '{revision}' not found in {path}")]
    RevisionNotFound {
        /// The revision asked for.
        revision: String,
        /// The repository.
        path: PathBuf,
        /// What git2 said.
        #[source]
        source: git2::Error,
    },
    /// The Git object database could not be read.
    #[error("reading Git objects of {path} at {revision}")]
    Git {
        /// The repository.
        path: PathBuf,
        /// The revision being read.
        revision: String,
        /// What git2 said.
        #[source]
        source: git2::Error,
    },
    /// A file or directory could not be read.
    #[error("reading {path}")]
    Io {
        /// The path being read.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A symlink points outside the repository.
    #[error("{path}:1: symlink to '{target}' leaves the repository (refused)")]
    SymlinkEscapes {
        /// Repository-relative path of the link.
        path: String,
        /// Where it points.
        target: String,
    },
    /// A file is not UTF-8 text.
    #[error("{path}:1: not UTF-8 text")]
    NotText {
        /// Repository-relative path of the file.
        path: String,
    },
    /// A chain of symlinks does not end in a file.
    #[error("{path}:1: symlink does not resolve to a file in the repository")]
    DanglingSymlink {
        /// Repository-relative path of the link.
        path: String,
    },
    /// A Git tree entry name is not one plain path component.
    #[error(
        "{path}:1: tree entry name {reason} (refused: every entry must be one plain path component)"
    )]
    UnsafeEntryName {
        /// Repository-relative path of the entry, as far as it can be shown.
        path: String,
        /// What is wrong with the name.
        reason: &'static str,
    },
    /// A file is larger than the per-file limit.
    #[error("{path}:1: file is {size} bytes, over the limit of {limit} bytes per file (refused)")]
    FileTooLarge {
        /// Repository-relative path of the file.
        path: String,
        /// Its size, from the object header or metadata.
        size: u64,
        /// The limit (`render.maxFileBytes`).
        limit: u64,
    },
    /// The files of the revision together are larger than the per-revision limit.
    #[error(
        "{path}:1: reading this file takes the revision over the limit of {limit} bytes of files (refused)"
    )]
    RevisionTooLarge {
        /// Repository-relative path of the file that went over.
        path: String,
        /// The limit (`render.maxRevisionBytes`).
        limit: u64,
    },
    /// Writing the export for Kustomize would leave the export directory.
    #[error("{path}:1: path leaves the export directory (refused)")]
    ExportEscapes {
        /// Repository-relative path that was to be written.
        path: String,
    },
}
