//! The `sops:` block of an encrypted document.

use regex::Regex;
use serde_json::Value;

use crate::error::{Error, Result};

/// One age recipient of a file and its wrapped copy of the data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeStanza {
    /// The recipient (`age1…`).
    pub recipient: String,
    /// The data key, age-encrypted to the recipient, ASCII-armored.
    pub encrypted_data_key: String,
}

/// Which values SOPS encrypted, and how to check them.
#[derive(Debug, Clone)]
pub struct SopsMetadata {
    /// The age recipients, in file order.
    pub age: Vec<AgeStanza>,
    /// `lastmodified`, as written (the MAC's additional data).
    pub last_modified: String,
    /// The encrypted MAC (`ENC[…]`).
    pub mac: String,
    /// `mac_only_encrypted`: the MAC covers only encrypted values.
    pub mac_only_encrypted: bool,
    /// `encrypted_regex`.
    pub encrypted_regex: Option<Regex>,
    /// `unencrypted_regex`.
    pub unencrypted_regex: Option<Regex>,
    /// `encrypted_suffix`.
    pub encrypted_suffix: Option<String>,
    /// `unencrypted_suffix` (SOPS's default `_unencrypted` when none of the
    /// four rules is given).
    pub unencrypted_suffix: Option<String>,
    /// `version`, as written.
    pub version: Option<String>,
}

/// Master-key kinds fleet cannot use: a file that has only these cannot be
/// decrypted by the agent.
const OTHER_MASTER_KEYS: [&str; 5] = ["kms", "gcp_kms", "azure_kv", "hc_vault", "pgp"];

impl SopsMetadata {
    /// Reads the `sops:` block `block` of `file`.
    pub fn parse(file: &str, block: &Value) -> Result<Self> {
        let error = |field: &str, message: &str| Error::Metadata {
            file: file.to_owned(),
            field: field.to_owned(),
            message: message.to_owned(),
        };
        let Some(map) = block.as_object() else {
            return Err(error("", "must be a mapping"));
        };
        if map
            .get("key_groups")
            .is_some_and(|groups| !groups.is_null())
        {
            return Err(error(
                "key_groups",
                "key groups (Shamir secret sharing) are not supported; encrypt to age recipients directly",
            ));
        }
        for field in ["encrypted_comment_regex", "unencrypted_comment_regex"] {
            if map.get(field).is_some_and(|value| !value.is_null()) {
                return Err(error(
                    field,
                    "comment-based encryption rules are not supported; use encrypted_regex",
                ));
            }
        }
        let mut age = Vec::new();
        if let Some(stanzas) = map.get("age").filter(|value| !value.is_null()) {
            let Some(stanzas) = stanzas.as_array() else {
                return Err(error("age", "must be a list"));
            };
            for (index, stanza) in stanzas.iter().enumerate() {
                let field = format!("age[{index}]");
                let recipient = stanza.get("recipient").and_then(Value::as_str);
                let encrypted = stanza.get("enc").and_then(Value::as_str);
                let (Some(recipient), Some(encrypted)) = (recipient, encrypted) else {
                    return Err(error(&field, "needs 'recipient' and 'enc'"));
                };
                age.push(AgeStanza {
                    recipient: recipient.to_owned(),
                    encrypted_data_key: encrypted.to_owned(),
                });
            }
        }
        if age.is_empty() {
            let others: Vec<&str> = OTHER_MASTER_KEYS
                .into_iter()
                .filter(|kind| {
                    map.get(*kind)
                        .and_then(Value::as_array)
                        .is_some_and(|keys| !keys.is_empty())
                })
                .collect();
            let message = if others.is_empty() {
                "the file has no age recipient".to_owned()
            } else {
                format!(
                    "the file has no age recipient (only {}); fleet decrypts with age only",
                    others.join(", ")
                )
            };
            return Err(error("age", &message));
        }
        let text = |field: &str| -> Result<Option<String>> {
            match map.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(_) => Err(error(field, "must be a string")),
            }
        };
        let regex = |field: &str| -> Result<Option<Regex>> {
            text(field)?
                .map(|pattern| {
                    Regex::new(&pattern)
                        .map_err(|problem| error(field, &format!("invalid regex: {problem}")))
                })
                .transpose()
        };
        let Some(last_modified) = text("lastmodified")? else {
            return Err(error("lastmodified", "is missing"));
        };
        let Some(mac) = text("mac")? else {
            return Err(error("mac", "is missing"));
        };
        let mac_only_encrypted = match map.get("mac_only_encrypted") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => return Err(error("mac_only_encrypted", "must be true or false")),
        };
        let encrypted_regex = regex("encrypted_regex")?;
        let unencrypted_regex = regex("unencrypted_regex")?;
        let encrypted_suffix = text("encrypted_suffix")?.filter(|suffix| !suffix.is_empty());
        let mut unencrypted_suffix =
            text("unencrypted_suffix")?.filter(|suffix| !suffix.is_empty());
        if encrypted_regex.is_none()
            && unencrypted_regex.is_none()
            && encrypted_suffix.is_none()
            && unencrypted_suffix.is_none()
        {
            unencrypted_suffix = Some("_unencrypted".to_owned());
        }
        Ok(Self {
            age,
            last_modified,
            mac,
            mac_only_encrypted,
            encrypted_regex,
            unencrypted_regex,
            encrypted_suffix,
            unencrypted_suffix,
            version: text("version")?,
        })
    }

    /// The age recipients, in file order.
    pub fn recipients(&self) -> Vec<String> {
        self.age
            .iter()
            .map(|stanza| stanza.recipient.clone())
            .collect()
    }

    /// Whether SOPS encrypted the value at `path` (its keys, outermost
    /// first) — SOPS's own rule, applied in the same order.
    pub fn encrypts(&self, path: &[String]) -> bool {
        let mut encrypted = true;
        if let Some(suffix) = &self.unencrypted_suffix
            && path.iter().any(|key| key.ends_with(suffix.as_str()))
        {
            encrypted = false;
        }
        if let Some(suffix) = &self.encrypted_suffix {
            encrypted = path.iter().any(|key| key.ends_with(suffix.as_str()));
        }
        if let Some(regex) = &self.unencrypted_regex
            && path.iter().any(|key| regex.is_match(key))
        {
            encrypted = false;
        }
        if let Some(regex) = &self.encrypted_regex {
            encrypted = path.iter().any(|key| regex.is_match(key));
        }
        encrypted
    }
}
