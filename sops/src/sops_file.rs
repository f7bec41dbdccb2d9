//! A SOPS-encrypted YAML file: its documents, its `sops:` block, and
//! decryption with age identities.

use std::io::Read;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::identities::AgeIdentities;
use crate::metadata::SopsMetadata;
use crate::value_cipher::{EncryptedValue, ValueProblem};
use crate::walk::{Mode, Walk};

/// The top-level key SOPS keeps its metadata under.
const SOPS_KEY: &str = "sops";

/// Whether `document` is a SOPS-encrypted document: a mapping with a
/// top-level `sops:` mapping that holds a `mac`.
pub fn is_sops_document(document: &Value) -> bool {
    document
        .get(SOPS_KEY)
        .and_then(Value::as_object)
        .is_some_and(|block| block.contains_key("mac"))
}

/// A parsed SOPS YAML file (one or more documents sharing one data key and
/// one MAC). Holds ciphertext only.
#[derive(Debug, Clone)]
pub struct SopsFile {
    file: String,
    /// The documents without their `sops:` block, values still encrypted.
    documents: Vec<Value>,
    metadata: SopsMetadata,
}

impl SopsFile {
    /// Parses `text`, the content of `file` (named in errors).
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        let options = serde_saphyr::options! { strict_booleans: true };
        let documents: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options)
            .map_err(|error| Error::Yaml {
                file: file.to_owned(),
                message: error.to_string().lines().next().unwrap_or("").to_owned(),
            })?;
        let documents: Vec<Value> = documents
            .into_iter()
            .filter(|document| !document.is_null())
            .collect();
        Self::from_documents(file, documents)
    }

    /// A SOPS file from already parsed `documents` of `file`, in order.
    pub fn from_documents(file: &str, mut documents: Vec<Value>) -> Result<Self> {
        let Some(block) = documents
            .iter()
            .find(|document| is_sops_document(document))
            .and_then(|document| document.get(SOPS_KEY))
            .cloned()
        else {
            return Err(Error::NotSops {
                file: file.to_owned(),
            });
        };
        let metadata = SopsMetadata::parse(file, &block)?;
        for document in &mut documents {
            if let Some(map) = document.as_object_mut() {
                map.shift_remove(SOPS_KEY);
            }
        }
        Ok(Self {
            file: file.to_owned(),
            documents,
            metadata,
        })
    }

    /// The file's name as given.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The `sops:` block.
    pub fn metadata(&self) -> &SopsMetadata {
        &self.metadata
    }

    /// The age recipients, in file order.
    pub fn recipients(&self) -> Vec<String> {
        self.metadata.recipients()
    }

    /// The documents, values still encrypted, without their `sops:` block.
    pub fn encrypted_documents(&self) -> &[Value] {
        &self.documents
    }

    /// Checks that the file is well-formed without decrypting: every value
    /// SOPS encrypts is an `ENC[…]` value, and so is the MAC.
    pub fn check(&self) -> Result<()> {
        let mut walk = Walk::new(&self.file, &self.metadata, Mode::Check);
        for document in &self.documents {
            let mut document = document.clone();
            walk.document(&mut document)?;
        }
        EncryptedValue::parse(&self.metadata.mac).map_err(|problem| self.mac_problem(problem))?;
        Ok(())
    }

    /// Decrypts every document with `identities` and checks the MAC.
    /// Returns the plaintext documents, in file order, without `sops:`.
    pub fn decrypt(&self, identities: &AgeIdentities) -> Result<Vec<Value>> {
        let data_key = self.data_key(identities)?;
        let mut walk = Walk::new(&self.file, &self.metadata, Mode::Decrypt(&data_key));
        let mut documents = self.documents.clone();
        for document in &mut documents {
            walk.document(document)?;
        }
        let computed = walk.finish();
        let stored = EncryptedValue::parse(&self.metadata.mac)
            .map_err(|problem| self.mac_problem(problem))?
            .decrypt_bytes(&data_key, &self.metadata.last_modified)
            .map_err(|_| Error::MacMismatch {
                file: self.file.clone(),
            })?;
        if !computed.as_bytes().eq_ignore_ascii_case(&stored) {
            return Err(Error::MacMismatch {
                file: self.file.clone(),
            });
        }
        Ok(documents)
    }

    fn mac_problem(&self, problem: ValueProblem) -> Error {
        Error::Metadata {
            file: self.file.clone(),
            field: "mac".to_owned(),
            message: match problem {
                ValueProblem::Malformed(message) => message,
                ValueProblem::Authentication => "does not authenticate".to_owned(),
            },
        }
    }

    /// The data key, unwrapped with the first stanza one of `identities`
    /// opens.
    fn data_key(&self, identities: &AgeIdentities) -> Result<[u8; 32]> {
        for stanza in &self.metadata.age {
            let armored = age::armor::ArmoredReader::new(stanza.encrypted_data_key.as_bytes());
            let Ok(decryptor) = age::Decryptor::new(armored) else {
                continue;
            };
            let Ok(mut reader) = decryptor.decrypt(identities.as_dyn()) else {
                continue;
            };
            let mut key = Vec::new();
            if reader.read_to_end(&mut key).is_err() {
                continue;
            }
            return <[u8; 32]>::try_from(key.as_slice()).map_err(|_| Error::DataKey {
                file: self.file.clone(),
                recipient: stanza.recipient.clone(),
                length: key.len(),
            });
        }
        Err(Error::NoMatchingIdentity {
            file: self.file.clone(),
            recipients: self.recipients(),
        })
    }
}
