//! The age identities the agent decrypts SOPS-encrypted objects with.
//!
//! The file (`--sops-age-key-file`, in a cluster the optional Secret
//! `fleet-agent-sops`, key `age.agekey`, mounted as a file) is read again
//! whenever the agent opens encrypted objects, so a key added or rotated in
//! that Secret is used without a restart. A missing file is not an error: the
//! Secret is optional, and an agent without keys reports each encrypted
//! object it cannot decrypt.

use std::path::PathBuf;

use fleet_sops::AgeIdentities;

/// Where the agent's age identities are read from.
#[derive(Debug, Clone, Default)]
pub struct SopsKeys {
    path: Option<PathBuf>,
}

impl SopsKeys {
    /// Identities from the key file at `path` (none if `None`).
    pub fn new(path: Option<PathBuf>) -> Self {
        Self { path }
    }

    /// The identities now: `None` when no key file is configured or it does
    /// not exist; an error message when it exists but is unusable.
    pub fn load(&self) -> Result<Option<AgeIdentities>, String> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        if !path.exists() {
            return Ok(None);
        }
        AgeIdentities::from_file(path)
            .map(Some)
            .map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_means_no_keys_and_a_bad_one_is_named() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("age.agekey");
        assert!(SopsKeys::new(Some(path.clone())).load().unwrap().is_none());
        assert!(SopsKeys::new(None).load().unwrap().is_none());
        std::fs::write(&path, "# comment\nnot-a-key\n").unwrap();
        let error = SopsKeys::new(Some(path.clone())).load().unwrap_err();
        assert!(
            error.contains("age.agekey") && error.contains("line 2"),
            "{error}"
        );
    }
}
