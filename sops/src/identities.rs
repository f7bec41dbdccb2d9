//! The age identities an agent decrypts with, read from an age key file.

use std::path::Path;

use age::Identity;

use crate::error::{Error, Result};

/// X25519 identities from an age key file (`age-keygen` output: comment
/// lines and `AGE-SECRET-KEY-1…` lines). Debug output shows no key.
pub struct AgeIdentities {
    identities: Vec<Box<dyn Identity + Send + Sync>>,
    recipients: Vec<String>,
}

impl std::fmt::Debug for AgeIdentities {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AgeIdentities")
            .field("recipients", &self.recipients)
            .finish()
    }
}

impl AgeIdentities {
    /// Reads the identities of the key file at `path`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|error| Error::KeyFile {
            path: path.display().to_string(),
            message: error.to_string(),
        })?;
        Self::from_text(&path.display().to_string(), &text)
    }

    /// Reads the identities in `text`; `source` names it in errors.
    pub fn from_text(source: &str, text: &str) -> Result<Self> {
        let key_file_error = |message: String| Error::KeyFile {
            path: source.to_owned(),
            message,
        };
        let mut identities: Vec<Box<dyn Identity + Send + Sync>> = Vec::new();
        let mut recipients = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let identity: age::x25519::Identity = line.parse().map_err(|_| {
                key_file_error(format!(
                    "line {}: not an age X25519 identity (AGE-SECRET-KEY-1…)",
                    number + 1
                ))
            })?;
            recipients.push(identity.to_public().to_string());
            identities.push(Box::new(identity));
        }
        if identities.is_empty() {
            return Err(key_file_error("holds no age identity".to_owned()));
        }
        Ok(Self {
            identities,
            recipients,
        })
    }

    /// The public recipients (`age1…`) of these identities.
    pub fn recipients(&self) -> &[String] {
        &self.recipients
    }

    pub(crate) fn as_dyn(&self) -> impl Iterator<Item = &dyn Identity> {
        self.identities
            .iter()
            .map(|identity| identity.as_ref() as &dyn Identity)
    }
}
