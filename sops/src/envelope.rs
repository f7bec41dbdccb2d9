//! Opening the envelopes fleet's renderer makes of SOPS documents.
//!
//! The hub ships each document of a SOPS file as an envelope: the
//! document's clear identity, fleet's additions (default namespace,
//! `fleet/app` / `fleet/cluster` labels) on the envelope's metadata, and the
//! file's original bytes under [`SOPS_SOURCE_FIELD`]. Opening one decrypts
//! those bytes (MAC checked), takes the document, checks that its identity
//! is the envelope's, and applies fleet's additions to it.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::identities::AgeIdentities;
use crate::sops_file::SopsFile;

/// The envelope's field holding the SOPS source (`{file, document,
/// content}`); fleet-core's renderer writes the same name.
pub const SOPS_SOURCE_FIELD: &str = "fleetSops";

/// Whether `object` is an envelope around a SOPS document.
pub fn is_envelope(object: &Value) -> bool {
    object.get(SOPS_SOURCE_FIELD).is_some()
}

/// The repository path of the SOPS file an envelope came from.
pub fn envelope_file(object: &Value) -> Option<&str> {
    object
        .get(SOPS_SOURCE_FIELD)
        .and_then(|source| source.get("file"))
        .and_then(Value::as_str)
}

/// The parsed SOPS file inside `envelope` and the document's index.
pub fn envelope_sops_file(envelope: &Value) -> Result<(SopsFile, usize)> {
    let source = envelope.get(SOPS_SOURCE_FIELD);
    let file = envelope_file(envelope).unwrap_or("(unnamed SOPS file)");
    let malformed = |message: &str| Error::Envelope {
        file: file.to_owned(),
        message: message.to_owned(),
    };
    let content = source
        .and_then(|source| source.get("content"))
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("the envelope has no content"))?;
    let index = source
        .and_then(|source| source.get("document"))
        .and_then(Value::as_u64)
        .and_then(|index| usize::try_from(index).ok())
        .ok_or_else(|| malformed("the envelope has no document index"))?;
    Ok((SopsFile::parse(file, content)?, index))
}

/// The decrypted object inside `envelope`, with fleet's additions applied.
/// Without `identities` (no key configured) it fails like a wrong key.
pub fn open_envelope(envelope: &Value, identities: Option<&AgeIdentities>) -> Result<Value> {
    let (sops_file, index) = envelope_sops_file(envelope)?;
    let file = sops_file.file().to_owned();
    let Some(identities) = identities else {
        return Err(Error::NoMatchingIdentity {
            file,
            recipients: sops_file.recipients(),
        });
    };
    let mut documents = sops_file.decrypt(identities)?;
    if index >= documents.len() {
        return Err(Error::Envelope {
            file,
            message: format!("the file has no document {index}"),
        });
    }
    let mut object = documents.swap_remove(index);
    for pointer in ["/apiVersion", "/kind", "/metadata/name"] {
        if object.pointer(pointer) != envelope.pointer(pointer) {
            return Err(Error::Envelope {
                file,
                message: format!("the decrypted document's {pointer} differs from the envelope's"),
            });
        }
    }
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return Err(Error::Envelope {
            file,
            message: "the decrypted document has no metadata".to_owned(),
        });
    };
    // The renderer decided the namespace (default filled in, removed for
    // cluster-scoped kinds); the envelope carries its decision.
    match envelope.pointer("/metadata/namespace") {
        Some(namespace) => {
            metadata.insert("namespace".to_owned(), namespace.clone());
        }
        None => {
            metadata.shift_remove("namespace");
        }
    }
    if let Some(Value::Object(added)) = envelope.pointer("/metadata/labels") {
        let labels = metadata
            .entry("labels")
            .or_insert_with(|| Value::Object(Map::new()));
        if !labels.is_object() {
            *labels = Value::Object(Map::new());
        }
        if let Some(labels) = labels.as_object_mut() {
            for (name, value) in added {
                labels.insert(name.clone(), value.clone());
            }
        }
    }
    Ok(object)
}
