//! SOPS-encrypted manifests pass through rendering as ciphertext.
//!
//! The hub never holds a key, so it cannot decrypt; and SOPS's MAC covers
//! every value in document order (clear-text ones too, unless
//! `mac_only_encrypted`), so fleet may not change a byte of the document.
//! Each document of a SOPS file therefore becomes an *envelope*: an object
//! with the document's identity (apiVersion, kind, metadata.name and
//! metadata.namespace, which must be in clear text) and a
//! [`SOPS_SOURCE_FIELD`] holding the file's path, the document's index and
//! the file's original bytes. The rest of the pipeline treats the envelope
//! like any object: no variables or overlays reach inside it, and fleet's
//! additions (default namespace, `fleet/app` and `fleet/cluster` labels)
//! land on the envelope's own metadata. The agent decrypts the original
//! bytes, checks the MAC, and then applies those additions to the decrypted
//! object. The digest covers the ciphertext, so a re-encrypted value is a
//! normal change that rolls out.

use serde_json::{Map, Value};

use crate::yaml::YamlDocument;

/// The envelope's field holding the SOPS source: `{file, document,
/// content}`. fleet-sops (agent side) reads the same name.
pub const SOPS_SOURCE_FIELD: &str = "fleetSops";

/// Whether `document` is SOPS-encrypted: a top-level `sops:` mapping with a `mac`.
pub fn is_sops_document(document: &Value) -> bool {
    document
        .get("sops")
        .and_then(Value::as_object)
        .is_some_and(|block| block.contains_key("mac"))
}

/// Whether `object` is an envelope made by [`envelope`].
pub fn is_envelope(object: &Value) -> bool {
    object.get(SOPS_SOURCE_FIELD).is_some()
}

/// The envelope of the `index`-th document of the SOPS file `file`, whose
/// full text is `content`; an error message if the document's identity is
/// not in clear text.
pub fn envelope(
    document: &YamlDocument,
    index: usize,
    content: &str,
) -> Result<Value, (String, String)> {
    let clear = |pointer: &str| -> Result<Option<String>, (String, String)> {
        match document.value.pointer(pointer) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.starts_with("ENC[") => Err((
                pointer.to_owned(),
                format!(
                    "SOPS file encrypts {}: fleet needs apiVersion, kind, metadata.name and metadata.namespace in clear text to order and track the object (encrypt with --encrypted-regex '^(data|stringData)$')",
                    pointer.trim_start_matches('/').replace('/', ".")
                ),
            )),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err((
                pointer.to_owned(),
                format!(
                    "{} must be a string",
                    pointer.trim_start_matches('/').replace('/', ".")
                ),
            )),
        }
    };
    let mut object = Map::new();
    let mut metadata = Map::new();
    for (field, pointer) in [("apiVersion", "/apiVersion"), ("kind", "/kind")] {
        if let Some(text) = clear(pointer)? {
            object.insert(field.to_owned(), Value::String(text));
        }
    }
    for (field, pointer) in [
        ("name", "/metadata/name"),
        ("namespace", "/metadata/namespace"),
    ] {
        if let Some(text) = clear(pointer)? {
            metadata.insert(field.to_owned(), Value::String(text));
        }
    }
    object.insert("metadata".to_owned(), Value::Object(metadata));
    let mut source = Map::new();
    source.insert("file".to_owned(), Value::String(document.file.clone()));
    source.insert("document".to_owned(), Value::from(index));
    source.insert("content".to_owned(), Value::String(content.to_owned()));
    object.insert(SOPS_SOURCE_FIELD.to_owned(), Value::Object(source));
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::Value;

    use super::SOPS_SOURCE_FIELD;
    use crate::render::{APP_LABEL, CLUSTER_LABEL, Renderer};
    use crate::repository::FleetRepository;
    use crate::test_support::example;

    /// A SOPS file's shape (the crypto is fleet-sops's and the end-to-end
    /// test's business): clear identity, encrypted data, a `${…}` the
    /// renderer must leave alone, and the `sops:` block.
    const SECRET: &str = "\
apiVersion: v1
kind: Secret
metadata:
    name: web-credentials
    annotations:
        note: ${not.a.variable}
stringData:
    password: ENC[AES256_GCM,data:N1QykovSwg==,iv:INv9gtAJM4l3VEmziL+Jrlp76NvzCXmEguy/wfvwzV8=,tag:NUbcJscWAyWKP0w/gn31Ng==,type:str]
sops:
    age:
        - recipient: age18xw0dscsq565sjemm9l4c7ph2cw9uqz0vda7pz8l3k59qjz8gujs92xqze
          enc: x
    lastmodified: \"2026-12-05T21:28:37Z\"
    mac: ENC[AES256_GCM,data:To9t,iv:Gjfh,tag:CpRS,type:str]
    encrypted_regex: ^(data|stringData)$
";

    fn render_web(edits: &[(&str, &str)]) -> Result<crate::render::AppRender, String> {
        let repository = FleetRepository::load(example(edits)).map_err(|e| format!("{e:?}"))?;
        let renderer = Renderer::with_settings(
            Arc::new(repository),
            crate::test_support::example_settings(),
        );
        let render = renderer
            .render_cluster("dev-eu-1")
            .map_err(|problems| problems.to_string())?;
        Ok(render
            .apps
            .into_iter()
            .find(|app| app.app == "web")
            .unwrap())
    }

    fn envelope_of(app: &crate::render::AppRender) -> Value {
        app.objects
            .iter()
            .find(|object| object.key.name == "web-credentials")
            .unwrap()
            .value()
    }

    #[test]
    fn a_sops_file_ships_its_original_bytes_with_fleets_additions_beside_them() {
        let app = render_web(&[("apps/web/base/credentials.sops.yaml", SECRET)]).unwrap();
        let object = app
            .objects
            .iter()
            .find(|object| object.key.name == "web-credentials")
            .unwrap();
        assert_eq!(object.key.kind, "Secret");
        assert_eq!(object.key.namespace.as_deref(), Some("web"));
        let value = object.value();
        // Byte for byte what Git holds: no variable substituted inside.
        assert_eq!(value[SOPS_SOURCE_FIELD]["content"], SECRET);
        assert_eq!(
            value[SOPS_SOURCE_FIELD]["file"],
            "apps/web/base/credentials.sops.yaml"
        );
        assert_eq!(value[SOPS_SOURCE_FIELD]["document"], 0);
        // Fleet's additions sit on the envelope, for the agent to apply.
        assert_eq!(value["metadata"]["namespace"], "web");
        assert_eq!(value["metadata"]["labels"][APP_LABEL], "web");
        assert_eq!(value["metadata"]["labels"][CLUSTER_LABEL], "dev-eu-1");
        // Nothing of the document outside the envelope's identity.
        assert!(value.get("stringData").is_none());
        assert!(value.get("sops").is_none());
    }

    #[test]
    fn a_re_encrypted_value_changes_the_digest() {
        let before = render_web(&[("apps/web/base/credentials.sops.yaml", SECRET)]).unwrap();
        let changed = SECRET.replace("data:N1QykovSwg==", "data:M1QykovSwg==");
        let after = render_web(&[("apps/web/base/credentials.sops.yaml", &changed)]).unwrap();
        assert_ne!(before.digest, after.digest);
        assert_ne!(envelope_of(&before), envelope_of(&after));
    }

    #[test]
    fn an_encrypted_identity_is_refused_at_its_line() {
        let fully = SECRET.replace(
            "name: web-credentials",
            "name: ENC[AES256_GCM,data:izWf4KhNY4k=,iv:x,tag:y,type:str]",
        );
        let error = render_web(&[("apps/web/base/credentials.sops.yaml", &fully)]).unwrap_err();
        assert!(
            error.contains("apps/web/base/credentials.sops.yaml:4")
                && error.contains("SOPS file encrypts metadata.name"),
            "{error}"
        );
    }

    #[test]
    fn an_overlay_cannot_patch_an_encrypted_object() {
        let patch = "apiVersion: v1\nkind: Secret\nmetadata: {name: web-credentials}\nstringData: {password: plain}\n";
        let error = render_web(&[
            ("apps/web/base/credentials.sops.yaml", SECRET),
            ("apps/web/overlays/dev/credentials.yaml", patch),
        ])
        .unwrap_err();
        assert!(
            error.contains("apps/web/overlays/dev/credentials.yaml:1")
                && error.contains("targets a SOPS-encrypted object"),
            "{error}"
        );
    }
}
