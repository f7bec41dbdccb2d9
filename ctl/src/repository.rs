//! Opening the fleet repository the user pointed at.

use std::path::Path;
use std::sync::Arc;

use fleet_core::source::{ReadLimits, SourceError};
use fleet_core::{Diagnostic, FleetRepository, Snapshot};

use crate::error::CliError;

/// Reads the repository at `path`: at `revision` from Git when given, else the
/// directory as it is on disk (a bare repository is read at HEAD).
pub fn snapshot(
    path: &Path,
    revision: Option<&str>,
    limits: ReadLimits,
) -> Result<Snapshot, CliError> {
    let result = match revision {
        Some(revision) => Snapshot::from_git_with_limits(path, revision, limits),
        None if is_bare_repository(path) => Snapshot::from_git_with_limits(path, "HEAD", limits),
        None => {
            if !path.is_dir() {
                return Err(CliError::input(
                    format!("{}: no such directory", path.display()),
                    Some("point --repo at a fleet repository".to_owned()),
                ));
            }
            Snapshot::from_directory_with_limits(path, limits)
        }
    };
    result.map_err(|error| match &error {
        SourceError::RevisionNotFound { revision, .. } => CliError::input(
            error.to_string(),
            Some(format!(
                "'{revision}' must name a branch, tag or commit of the repository"
            )),
        ),
        SourceError::NotARepository { .. } => CliError::input(
            error.to_string(),
            Some("--rev reads from Git; drop it to read a plain directory".to_owned()),
        ),
        _ => CliError::Invalid(Diagnostic::from_source_error(&error).into()),
    })
}

/// Loads and checks the repository at `path` and `revision`.
pub fn load(
    path: &Path,
    revision: Option<&str>,
    limits: ReadLimits,
) -> Result<Arc<FleetRepository>, CliError> {
    let snapshot = snapshot(path, revision, limits)?;
    Ok(Arc::new(FleetRepository::load(Arc::new(snapshot))?))
}

fn is_bare_repository(path: &Path) -> bool {
    path.join("HEAD").is_file() && path.join("objects").is_dir() && !path.join(".git").exists()
}
