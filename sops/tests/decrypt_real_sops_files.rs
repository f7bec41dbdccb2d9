//! fleet-sops against files produced by the real `sops` binary (see
//! `fixtures/regenerate.sh`): every encryption rule, several recipients, a
//! tampered file and a wrong key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::path::PathBuf;

use fleet_sops::{AgeIdentities, Error, SopsFile};
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

fn key(name: &str) -> AgeIdentities {
    AgeIdentities::from_file(&fixture(&format!("{name}.agekey"))).unwrap()
}

/// The plaintext documents SOPS encrypted.
fn plain(name: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(&text(&format!("plain/{name}"))).unwrap()
}

fn decrypt(file: &str, key_name: &str) -> Result<Vec<Value>, Error> {
    SopsFile::parse(file, &text(file))
        .unwrap()
        .decrypt(&key(key_name))
}

#[test]
fn encrypted_regex_documents_decrypt_to_the_plaintext() {
    let file = SopsFile::parse("regex.sops.yaml", &text("regex.sops.yaml")).unwrap();
    file.check().unwrap();
    // The identity fields stay in clear; the secret values do not.
    let documents = file.encrypted_documents();
    assert_eq!(documents.len(), 2);
    assert_eq!(documents[0]["metadata"]["name"], "db");
    let password = documents[0]["stringData"]["password"].as_str().unwrap();
    assert!(password.starts_with("ENC[AES256_GCM,"), "{password}");
    assert_eq!(file.decrypt(&key("first")).unwrap(), plain("secrets.yaml"));
}

#[test]
fn several_recipients_each_decrypt_and_are_listed() {
    let file = SopsFile::parse("regex.sops.yaml", &text("regex.sops.yaml")).unwrap();
    let first = key("first");
    let second = key("second");
    assert_eq!(
        file.recipients(),
        vec![
            first.recipients()[0].clone(),
            second.recipients()[0].clone()
        ]
    );
    assert_eq!(file.decrypt(&second).unwrap(), plain("secrets.yaml"));
}

#[test]
fn a_fully_encrypted_document_decrypts_with_its_types() {
    let documents = decrypt("full.sops.yaml", "first").unwrap();
    assert_eq!(documents, plain("settings.yaml"));
    let data = &documents[0]["data"];
    assert_eq!(data["replicas"], json!(3));
    assert_eq!(data["enabled"], json!(true));
    assert_eq!(data["disabled"], json!(false));
    assert_eq!(data["ratio"], json!(0.25));
    assert_eq!(data["nested"]["list"][2]["deeper"], "value");
    assert_eq!(data["note_unencrypted"], "stays readable");
}

#[test]
fn encrypted_suffix_and_mac_only_encrypted_files_decrypt() {
    assert_eq!(
        decrypt("suffix.sops.yaml", "first").unwrap(),
        plain("suffix.yaml")
    );
    assert_eq!(
        decrypt("mac-only.sops.yaml", "first").unwrap(),
        plain("secrets.yaml")
    );
    // With mac_only_encrypted, a clear-text value is outside the MAC.
    let edited = text("mac-only.sops.yaml").replace("tier: backend", "tier: frontend");
    let documents = SopsFile::parse("mac-only.sops.yaml", &edited)
        .unwrap()
        .decrypt(&key("first"))
        .unwrap();
    assert_eq!(documents[0]["metadata"]["labels"]["tier"], "frontend");
}

#[test]
fn a_clear_text_value_edited_by_hand_fails_the_mac() {
    let edited = text("regex.sops.yaml").replace("tier: backend", "tier: frontend");
    assert_ne!(edited, text("regex.sops.yaml"));
    let error = SopsFile::parse("regex.sops.yaml", &edited)
        .unwrap()
        .decrypt(&key("first"))
        .unwrap_err();
    assert!(matches!(error, Error::MacMismatch { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("regex.sops.yaml: MAC mismatch"),
        "{error}"
    );
}

#[test]
fn an_encrypted_value_moved_to_another_key_fails_to_decrypt() {
    // Swap the two encrypted values of stringData: each was encrypted with
    // its own path as additional data, so neither decrypts in the other's place.
    let original = text("regex.sops.yaml");
    let mut lines: Vec<String> = original.lines().map(str::to_owned).collect();
    let password = lines
        .iter()
        .position(|line| line.trim_start().starts_with("password: ENC["))
        .unwrap();
    let port = lines
        .iter()
        .position(|line| line.trim_start().starts_with("port: ENC["))
        .unwrap();
    let value = |line: &str| line.split_once(": ").unwrap().1.to_owned();
    let (password_value, port_value) = (value(&lines[password]), value(&lines[port]));
    lines[password] = format!("    password: {port_value}");
    lines[port] = format!("    port: {password_value}");
    let error = SopsFile::parse("regex.sops.yaml", &lines.join("\n"))
        .unwrap()
        .decrypt(&key("first"))
        .unwrap_err();
    assert!(
        matches!(&error, Error::Decrypt { path, .. } if path == "stringData:password"),
        "{error:?}"
    );
    // The message names the place, never a value.
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[test]
fn a_wrong_key_names_the_recipients() {
    let file = SopsFile::parse("regex.sops.yaml", &text("regex.sops.yaml")).unwrap();
    let error = file.decrypt(&key("stranger")).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("regex.sops.yaml: no matching age identity (recipients: age1"),
        "{message}"
    );
    for recipient in file.recipients() {
        assert!(message.contains(&recipient), "{message}");
    }
}

#[test]
fn a_clear_value_where_sops_encrypts_is_malformed() {
    let edited = text("full.sops.yaml").replace(
        "note_unencrypted: stays readable",
        "note_unencrypted: stays readable\n    leaked: in clear",
    );
    let error = SopsFile::parse("full.sops.yaml", &edited)
        .unwrap()
        .check()
        .unwrap_err();
    assert!(
        error.to_string().starts_with(
            "full.sops.yaml: value at data:leaked is not a valid SOPS encrypted value"
        ),
        "{error}"
    );
}

#[test]
fn a_plain_file_is_not_a_sops_file() {
    let error = SopsFile::parse("plain.yaml", &text("plain/secrets.yaml")).unwrap_err();
    assert!(matches!(error, Error::NotSops { .. }), "{error:?}");
}

/// An envelope as fleet-core's renderer makes it for the first document of
/// `regex.sops.yaml` in app `database` on cluster `east`.
fn envelope() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "database",
            "labels": {"fleet/app": "database", "fleet/cluster": "east"}
        },
        "fleetSops": {
            "file": "apps/database/base/regex.sops.yaml",
            "document": 0,
            "content": text("regex.sops.yaml")
        }
    })
}

#[test]
fn an_envelope_opens_to_the_document_with_fleets_additions() {
    let object = fleet_sops::open_envelope(&envelope(), Some(&key("second"))).unwrap();
    assert_eq!(object["stringData"]["password"], "hunter2");
    assert_eq!(object["metadata"]["namespace"], "database");
    // The document's own labels stay; fleet's are added.
    assert_eq!(object["metadata"]["labels"]["tier"], "backend");
    assert_eq!(object["metadata"]["labels"]["fleet/cluster"], "east");
    assert!(object.get("sops").is_none());
}

#[test]
fn an_envelope_without_a_matching_key_names_file_and_recipients() {
    for identities in [None, Some(key("stranger"))] {
        let error = fleet_sops::open_envelope(&envelope(), identities.as_ref()).unwrap_err();
        assert!(
            error.to_string().starts_with(
                "apps/database/base/regex.sops.yaml: no matching age identity (recipients: age1"
            ),
            "{error}"
        );
        assert!(
            error
                .reason()
                .starts_with("no matching age identity (recipients: age1"),
            "{}",
            error.reason()
        );
    }
}

#[test]
fn an_envelope_whose_identity_differs_from_its_document_is_refused() {
    let mut envelope = envelope();
    envelope["metadata"]["name"] = json!("other");
    let error = fleet_sops::open_envelope(&envelope, Some(&key("first"))).unwrap_err();
    assert!(
        error.to_string().contains("/metadata/name differs"),
        "{error}"
    );
}
