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
}
