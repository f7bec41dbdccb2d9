//! The walk over a document's values, as SOPS does it: decrypt each value
//! SOPS encrypted and feed every value (or only the encrypted ones) to the
//! MAC, in document order.

use serde_json::Value;
use sha2::{Digest, Sha512};

use crate::error::{Error, Result};
use crate::metadata::SopsMetadata;
use crate::value_cipher::{EncryptedValue, ValueProblem, mac_bytes};

/// SOPS's fixed start of the MAC when `mac_only_encrypted` is set (sha256
/// of "sops"), so the two kinds of MAC never agree.
const MAC_ONLY_ENCRYPTED_INITIALIZATION: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// What to do with each encrypted value.
pub(crate) enum Mode<'a> {
    /// Only check that it is a well-formed `ENC[…]` value.
    Check,
    /// Decrypt it with the data key and compute the MAC.
    Decrypt(&'a [u8; 32]),
}

/// One walk over a file's documents.
pub(crate) struct Walk<'a> {
    file: &'a str,
    metadata: &'a SopsMetadata,
    mode: Mode<'a>,
    mac: Sha512,
}

impl<'a> Walk<'a> {
    pub(crate) fn new(file: &'a str, metadata: &'a SopsMetadata, mode: Mode<'a>) -> Self {
        let mut mac = Sha512::new();
        if metadata.mac_only_encrypted {
            mac.update(MAC_ONLY_ENCRYPTED_INITIALIZATION);
        }
        Self {
            file,
            metadata,
            mode,
            mac,
        }
    }

    /// Walks one document (its `sops:` block already removed), replacing
    /// encrypted values by their plaintext when decrypting.
    pub(crate) fn document(&mut self, document: &mut Value) -> Result<()> {
        let mut path = Vec::new();
        self.value(document, &mut path)
    }

    /// The MAC computed so far, as SOPS writes it (upper-case hex).
    pub(crate) fn finish(self) -> String {
        hex::encode_upper(self.mac.finalize())
    }

    fn value(&mut self, value: &mut Value, path: &mut Vec<String>) -> Result<()> {
        match value {
            Value::Object(map) => {
                for (key, item) in map.iter_mut() {
                    path.push(key.clone());
                    self.value(item, path)?;
                    path.pop();
                }
                Ok(())
            }
            // List items do not add to the path, as in SOPS.
            Value::Array(items) => items.iter_mut().try_for_each(|item| self.value(item, path)),
            Value::Null => Ok(()),
            leaf => self.leaf(leaf, path),
        }
    }

    fn leaf(&mut self, leaf: &mut Value, path: &[String]) -> Result<()> {
        let encrypted = self.metadata.encrypts(path);
        if encrypted {
            let problem = |message: String| Error::Value {
                file: self.file.to_owned(),
                path: path.join(":"),
                message,
            };
            let Value::String(text) = &*leaf else {
                return Err(problem(
                    "expected an ENC[…] string: the value is in clear text where SOPS encrypts"
                        .to_owned(),
                ));
            };
            // SOPS leaves empty strings as they are.
            if !text.is_empty() {
                let parsed =
                    EncryptedValue::parse(text).map_err(|problem_found| match problem_found {
                        ValueProblem::Malformed(message) => problem(message),
                        ValueProblem::Authentication => problem("authentication failed".to_owned()),
                    })?;
                if let Mode::Decrypt(data_key) = self.mode {
                    let additional_data = format!("{}:", path.join(":"));
                    *leaf =
                        parsed
                            .decrypt(data_key, &additional_data)
                            .map_err(|problem_found| match problem_found {
                                ValueProblem::Authentication => Error::Decrypt {
                                    file: self.file.to_owned(),
                                    path: path.join(":"),
                                },
                                ValueProblem::Malformed(message) => problem(message),
                            })?;
                }
            }
        }
        if !self.metadata.mac_only_encrypted || encrypted {
            self.mac.update(mac_bytes(leaf));
        }
        Ok(())
    }
}
