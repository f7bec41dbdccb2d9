//! Reading a fleet repository from a plain directory (local work, no Git),
//! with the same size limits as a Git revision.

use std::path::Path;
use std::sync::Arc;

use super::error::SourceError;
use super::limits::{ReadBudget, ReadLimits};
use super::snapshot::{Entry, Snapshot};

pub(super) fn read_directory(root: &Path, limits: ReadLimits) -> Result<Snapshot, SourceError> {
    let mut entries = Vec::new();
    let mut budget = ReadBudget::new(limits);
    walk(root, "", &mut entries, &mut budget)?;
    Ok(Snapshot::from_entries(
        entries,
        None,
        format!("directory {}", root.display()),
    ))
}

fn walk(
    root: &Path,
    relative: &str,
    entries: &mut Vec<(String, Entry)>,
    budget: &mut ReadBudget,
) -> Result<(), SourceError> {
    let directory = root.join(relative);
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |source| SourceError::Io { path, source }
    };
    let listing = std::fs::read_dir(&directory).map_err(io_error(&directory))?;
    for item in listing {
        let item = item.map_err(io_error(&directory))?;
        let name = item.file_name().to_string_lossy().into_owned();
        if name == ".git" {
            continue;
        }
        let path = if relative.is_empty() {
            name
        } else {
            format!("{relative}/{name}")
        };
        let full = item.path();
        let metadata = std::fs::symlink_metadata(&full).map_err(io_error(&full))?;
        if metadata.file_type().is_symlink() {
            let target = std::fs::read_link(&full).map_err(io_error(&full))?;
            entries.push((path, Entry::Symlink(target.to_string_lossy().into_owned())));
        } else if metadata.is_dir() {
            walk(root, &path, entries, budget)?;
        } else if metadata.is_file() {
            // Checked from the metadata, before anything is read.
            budget.take(&path, metadata.len())?;
            let bytes = std::fs::read(&full).map_err(io_error(&full))?;
            entries.push((path, Entry::File(Arc::from(bytes))));
        }
    }
    Ok(())
}
