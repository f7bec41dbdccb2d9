//! What can go wrong reading or decrypting a SOPS file.

/// A SOPS file could not be read or decrypted. Messages never contain a
/// decrypted value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is not valid YAML.
    #[error("{file}: invalid YAML: {message}")]
    Yaml {
        /// The file.
        file: String,
        /// What the parser said.
        message: String,
    },
    /// No document of the file has a top-level `sops:` mapping.
    #[error("{file}: not a SOPS file (no top-level 'sops:' block)")]
    NotSops {
        /// The file.
        file: String,
    },
    /// The `sops:` block is malformed or uses something fleet does not support.
    #[error("{file}: sops.{field}: {message}")]
    Metadata {
        /// The file.
        file: String,
        /// The field of the `sops:` block.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A value that SOPS should have encrypted is not an `ENC[…]` string.
    #[error("{file}: value at {path} is not a valid SOPS encrypted value: {message}")]
    Value {
        /// The file.
        file: String,
        /// The value's path of keys (`stringData:password`).
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// None of the identities can unwrap the data key.
    #[error("{file}: no matching age identity (recipients: {})", recipients.join(", "))]
    NoMatchingIdentity {
        /// The file.
        file: String,
        /// The file's age recipients.
        recipients: Vec<String>,
    },
    /// The data key was unwrapped but is not 32 bytes.
    #[error("{file}: the data key of recipient {recipient} is {length} bytes, expected 32")]
    DataKey {
        /// The file.
        file: String,
        /// The recipient whose stanza gave it.
        recipient: String,
        /// Its length.
        length: usize,
    },
    /// A value did not decrypt: wrong key or a tampered value (GCM tag).
    #[error(
        "{file}: value at {path} failed to decrypt (tampered with, or encrypted with another data key)"
    )]
    Decrypt {
        /// The file.
        file: String,
        /// The value's path of keys.
        path: String,
    },
    /// The MAC over the values does not match the stored one.
    #[error(
        "{file}: MAC mismatch: the file was changed after SOPS encrypted it (edit it with sops, not by hand)"
    )]
    MacMismatch {
        /// The file.
        file: String,
    },
    /// A rendered envelope is malformed or does not match its document.
    #[error("{file}: {message}")]
    Envelope {
        /// The SOPS file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The age key file could not be read or holds no usable identity.
    #[error("age key file {path}: {message}")]
    KeyFile {
        /// The key file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
}

impl Error {
    /// The message without the leading `file: ` (for callers that name the
    /// file themselves).
    pub fn reason(&self) -> String {
        let message = self.to_string();
        let file = match self {
            Self::Yaml { file, .. }
            | Self::NotSops { file }
            | Self::Metadata { file, .. }
            | Self::Value { file, .. }
            | Self::NoMatchingIdentity { file, .. }
            | Self::DataKey { file, .. }
            | Self::Decrypt { file, .. }
            | Self::MacMismatch { file }
            | Self::Envelope { file, .. } => file,
            Self::KeyFile { .. } => return message,
        };
        message
            .strip_prefix(&format!("{file}: "))
            .map_or_else(|| message.clone(), str::to_owned)
    }
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
