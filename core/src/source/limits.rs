//! How much of a repository revision may be read into memory.
//!
//! Every blob the renderer reads is held in memory (and may be exported for
//! Kustomize), so a commit with one huge manifest, or one blob referenced
//! many times, could exhaust the hub's memory and disk. Sizes are checked
//! from the Git object header (or the file's metadata) before any content
//! is read.

/// Default largest file: 4 MiB. A Kubernetes object is at most ~1.5 MiB in etcd.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Default most bytes of files read for one revision: 256 MiB.
pub const DEFAULT_MAX_REVISION_BYTES: u64 = 256 * 1024 * 1024;

/// Size limits applied while reading one revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Largest single file (or symlink) in bytes.
    pub max_file_bytes: u64,
    /// Most bytes of all files of one revision together (a blob referenced
    /// by several paths counts once per path).
    pub max_revision_bytes: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_revision_bytes: DEFAULT_MAX_REVISION_BYTES,
        }
    }
}

/// Adds up the sizes of the files of one revision against [`ReadLimits`].
#[derive(Debug)]
pub(super) struct ReadBudget {
    limits: ReadLimits,
    total: u64,
}

impl ReadBudget {
    pub(super) fn new(limits: ReadLimits) -> Self {
        Self { limits, total: 0 }
    }

    /// Accounts for the file at `path` of `size` bytes, before it is read.
    pub(super) fn take(&mut self, path: &str, size: u64) -> Result<(), super::SourceError> {
        if size > self.limits.max_file_bytes {
            return Err(super::SourceError::FileTooLarge {
                path: path.to_owned(),
                size,
                limit: self.limits.max_file_bytes,
            });
        }
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_revision_bytes {
            return Err(super::SourceError::RevisionTooLarge {
                path: path.to_owned(),
                limit: self.limits.max_revision_bytes,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_large_file_and_a_large_total() {
        let mut budget = ReadBudget::new(ReadLimits {
            max_file_bytes: 10,
            max_revision_bytes: 15,
        });
        budget.take("a.yaml", 10).unwrap();
        let error = budget.take("b.yaml", 11).unwrap_err().to_string();
        assert!(
            error.contains("b.yaml") && error.contains("10 bytes"),
            "{error}"
        );
        let error = budget.take("c.yaml", 6).unwrap_err().to_string();
        assert!(
            error.contains("c.yaml") && error.contains("15 bytes"),
            "{error}"
        );
    }
}
