//! SOPS-encrypted files in a fleet repository, as `fleetctl validate` and
//! `fleetctl render` see them: checked for form (never decrypted by
//! validate), listed with their recipients, and decrypted by render only
//! when given an age key file (for local debugging).

use std::path::Path;

use fleet_core::diagnostic::{Diagnostic, Diagnostics};
use fleet_core::repository::FleetRepository;
use fleet_sops::{AgeIdentities, SopsFile};
use serde::Serialize;
use serde_json::Value;

use crate::error::CliError;

/// One SOPS file of the repository.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SopsFileSummary {
    /// Repository path.
    pub file: String,
    /// Number of documents.
    pub documents: usize,
    /// Its age recipients.
    pub recipients: Vec<String>,
}

/// Every SOPS file in the apps' `base/` and `overlays/*/` folders, checked
/// for form: a malformed one is a problem at its `file:1`.
pub fn check_all(repository: &FleetRepository) -> (Vec<SopsFileSummary>, Diagnostics) {
    let snapshot = &repository.snapshot;
    let mut summaries = Vec::new();
    let mut problems = Diagnostics::new();
    for app in repository.apps.keys() {
        let mut folders = vec![format!("apps/{app}/base")];
        for environment in repository.environments.keys() {
            folders.push(format!("apps/{app}/overlays/{environment}"));
        }
        for folder in folders {
            for path in snapshot.files_in(&folder) {
                if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
                    continue;
                }
                let Ok(Some(text)) = snapshot.read_text(path) else {
                    continue;
                };
                // A cheap look first: most files are not SOPS files.
                if !text.lines().any(|line| line.starts_with("sops:")) {
                    continue;
                }
                match SopsFile::parse(path, text).and_then(|file| file.check().map(|()| file)) {
                    Ok(file) => summaries.push(SopsFileSummary {
                        file: path.to_owned(),
                        documents: file.encrypted_documents().len(),
                        recipients: file.recipients(),
                    }),
                    Err(fleet_sops::Error::NotSops { .. }) => {}
                    Err(error) => problems.push(Diagnostic::at(path, 1, error.reason())),
                }
            }
        }
    }
    (summaries, problems)
}

/// Reads the age identities of `path` for `fleetctl render`.
pub fn identities(path: &Path) -> Result<AgeIdentities, CliError> {
    AgeIdentities::from_file(path).map_err(|error| CliError::input(error.to_string(), None))
}

/// `object` decrypted if it is a SOPS envelope (as the agent would apply
/// it), else unchanged.
pub fn decrypted(object: Value, identities: &AgeIdentities) -> Result<Value, CliError> {
    if !fleet_sops::is_envelope(&object) {
        return Ok(object);
    }
    fleet_sops::open_envelope(&object, Some(identities)).map_err(|error| {
        CliError::input(
            format!("cannot decrypt {error}"),
            Some(
                "--sops-age-key-file must hold an identity of one of the file's recipients"
                    .to_owned(),
            ),
        )
    })
}
