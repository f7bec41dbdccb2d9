//! One SOPS value: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`, decrypted
//! with AES-256-GCM (SOPS uses a 32-byte nonce).

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// AES-256-GCM with SOPS's 32-byte IVs.
type SopsCipher = AesGcm<Aes256, U32>;

/// The parts of an `ENC[…]` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncryptedValue {
    data: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    /// `str`, `int`, `int64`, `float`, `bool`, `bytes` or `comment`.
    pub(crate) value_type: String,
}

/// Why a value could not be used; the caller adds file and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ValueProblem {
    /// Not of the `ENC[AES256_GCM,…]` form.
    Malformed(String),
    /// The GCM tag did not verify.
    Authentication,
}

impl EncryptedValue {
    /// Parses `text`, which must be of the `ENC[AES256_GCM,…]` form.
    pub(crate) fn parse(text: &str) -> Result<Self, ValueProblem> {
        let malformed = |message: &str| ValueProblem::Malformed(message.to_owned());
        let Some(inner) = text
            .strip_prefix("ENC[AES256_GCM,")
            .and_then(|rest| rest.strip_suffix(']'))
        else {
            return Err(malformed(
                "expected ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]",
            ));
        };
        let mut data = None;
        let mut iv = None;
        let mut tag = None;
        let mut value_type = None;
        for part in inner.split(',') {
            let Some((name, content)) = part.split_once(':') else {
                return Err(malformed("a part without 'name:'"));
            };
            let decode = |content: &str| {
                STANDARD
                    .decode(content)
                    .map_err(|_| malformed(&format!("{name} is not base64")))
            };
            match name {
                "data" => data = Some(decode(content)?),
                "iv" => iv = Some(decode(content)?),
                "tag" => tag = Some(decode(content)?),
                "type" => value_type = Some(content.to_owned()),
                _ => return Err(malformed(&format!("unknown part '{name}'"))),
            }
        }
        let (Some(data), Some(iv), Some(tag), Some(value_type)) = (data, iv, tag, value_type)
        else {
            return Err(malformed("needs data, iv, tag and type"));
        };
        if iv.len() != 32 {
            return Err(malformed(&format!("iv is {} bytes, expected 32", iv.len())));
        }
        if tag.len() != 16 {
            return Err(malformed(&format!(
                "tag is {} bytes, expected 16",
                tag.len()
            )));
        }
        if !matches!(
            value_type.as_str(),
            "str" | "int" | "int64" | "float" | "bool" | "bytes" | "comment"
        ) {
            return Err(malformed(&format!("unknown type '{value_type}'")));
        }
        Ok(Self {
            data,
            iv,
            tag,
            value_type,
        })
    }

    /// The plaintext bytes, checked against `additional_data`.
    pub(crate) fn decrypt_bytes(
        &self,
        data_key: &[u8; 32],
        additional_data: &str,
    ) -> Result<Vec<u8>, ValueProblem> {
        let cipher = SopsCipher::new(data_key.into());
        let nonce = Nonce::<U32>::try_from(self.iv.as_slice())
            .map_err(|_| ValueProblem::Malformed("iv is not 32 bytes".to_owned()))?;
        let mut message = self.data.clone();
        message.extend_from_slice(&self.tag);
        cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &message,
                    aad: additional_data.as_bytes(),
                },
            )
            .map_err(|_| ValueProblem::Authentication)
    }

    /// The plaintext value with its type, checked against `additional_data`.
    pub(crate) fn decrypt(
        &self,
        data_key: &[u8; 32],
        additional_data: &str,
    ) -> Result<Value, ValueProblem> {
        let bytes = self.decrypt_bytes(data_key, additional_data)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ValueProblem::Malformed("plaintext is not UTF-8".to_owned()));
        let wrong =
            |expected: &str| ValueProblem::Malformed(format!("plaintext is not {expected}"));
        match self.value_type.as_str() {
            "str" | "bytes" | "comment" => Ok(Value::String(text?)),
            "int" | "int64" => {
                let number: i64 = text?.parse().map_err(|_| wrong("an integer"))?;
                Ok(Value::from(number))
            }
            "float" => {
                let number: f64 = text?.parse().map_err(|_| wrong("a number"))?;
                serde_json::Number::from_f64(number)
                    .map(Value::Number)
                    .ok_or_else(|| wrong("a finite number"))
            }
            "bool" => match text?.as_str() {
                "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(Value::Bool(true)),
                "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(Value::Bool(false)),
                _ => Err(wrong("a boolean")),
            },
            other => Err(ValueProblem::Malformed(format!("unknown type '{other}'"))),
        }
    }
}

/// The bytes SOPS feeds the MAC for a plaintext leaf (Go's `ToBytes`):
/// strings as is, integers in decimal, floats in shortest form without
/// exponent, booleans as `True` / `False`.
pub(crate) fn mac_bytes(value: &Value) -> Vec<u8> {
    match value {
        Value::String(text) => text.as_bytes().to_vec(),
        Value::Bool(true) => b"True".to_vec(),
        Value::Bool(false) => b"False".to_vec(),
        Value::Number(number) => {
            if let Some(integer) = number.as_i64() {
                integer.to_string().into_bytes()
            } else if let Some(integer) = number.as_u64() {
                integer.to_string().into_bytes()
            } else {
                // Rust's Display for f64 is the shortest round-trip form
                // without exponent, like Go's FormatFloat(f, 'f', -1, 64).
                number.as_f64().unwrap_or_default().to_string().into_bytes()
            }
        }
        Value::Null | Value::Array(_) | Value::Object(_) => Vec::new(),
    }
}
