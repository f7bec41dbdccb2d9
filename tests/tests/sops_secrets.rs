//! Secrets in Git with SOPS (age), end to end: a Secret encrypted by the
//! real `sops` to an age recipient reaches the fleet-sim cluster as
//! plaintext, decrypted only by the agent. The hub's data directory, its
//! log, `fleetctl render`, `fleetctl status -o json` and the agent's log
//! never hold the value; a hand edit of the Secret is reverted and the drift
//! report shows no value; a re-encrypted value rolls out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::{cluster_status, eventually, synced_and_healthy, token};
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::{app_yaml, config_map, fleet, write};
use fleet_tests::tools::tool;

const WAIT: Duration = Duration::from_secs(90);
const SECRET_FILE: &str = "apps/vault/base/credentials.sops.yaml";
const FIRST: &str = "first-plaintext-canary-4b1d";
const SECOND: &str = "second-plaintext-canary-9e7c";
const EDITED: &str = "edited-by-hand-canary-22f0";

/// A fresh age key file in `folder`; returns (key file, recipient).
fn age_key(folder: &Path) -> (std::path::PathBuf, String) {
    let key = folder.join("cluster.agekey");
    let output = Command::new(tool("age-keygen"))
        .arg("-o")
        .arg(&key)
        .output()
        .unwrap();
    assert!(output.status.success(), "age-keygen: {output:?}");
    let output = Command::new(tool("age-keygen"))
        .arg("-y")
        .arg(&key)
        .output()
        .unwrap();
    assert!(output.status.success(), "age-keygen -y: {output:?}");
    (
        key,
        String::from_utf8(output.stdout).unwrap().trim().to_owned(),
    )
}

/// The Secret with `password`, encrypted by the real sops to `recipient`
/// (only data/stringData encrypted, as the docs recommend).
fn encrypted_secret(folder: &Path, recipient: &str, password: &str) -> String {
    let plain = folder.join("credentials.yaml");
    std::fs::write(
        &plain,
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: credentials\n  labels:\n    team: storage\ntype: Opaque\nstringData:\n  password: {password}\n"
        ),
    )
    .unwrap();
    let output = Command::new(tool("sops"))
        .args([
            "encrypt",
            "--age",
            recipient,
            "--encrypted-regex",
            "^(data|stringData)$",
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
        ])
        .arg(&plain)
        // No key lookup: encryption needs only the recipient.
        .env("SOPS_AGE_KEY_FILE", "/dev/null")
        .output()
        .unwrap();
    std::fs::remove_file(&plain).unwrap();
    assert!(output.status.success(), "sops encrypt: {output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(!text.contains(password), "sops left the value in clear");
    text
}

/// The password the cluster's Secret holds.
fn password_in_cluster(cluster: &SimCluster) -> Option<String> {
    let secret = cluster.get("secret", "vault", "credentials")?;
    let data = secret["data"]["password"].as_str()?;
    Some(String::from_utf8(STANDARD.decode(data).unwrap()).unwrap())
}

/// Every place a value could leak to must hold neither the value nor its base64.
fn assert_absent(place: &str, text: &str, values: &[&str]) {
    for value in values {
        assert!(!text.contains(value), "{place} holds the plaintext {value}");
        let encoded = STANDARD.encode(value);
        assert!(
            !text.contains(&encoded),
            "{place} holds the plaintext {value} (base64)"
        );
    }
}

/// The bytes of every file under `folder`, as (lossy) text.
fn every_file(folder: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            text.push_str(&every_file(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text
}

fn message(hub: &HubProcess) -> String {
    cluster_status(hub, "edge-1")["message"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// Writes a one-cluster fleet (`edge-1`) whose app `vault` holds a
/// ConfigMap and [`SECRET_FILE`] encrypted to `recipient`.
fn vault_fleet(root: &Path, keys: &Path, recipient: &str) {
    fleet(root, &["edge-1"]);
    write(
        root,
        "apps/vault/app.yaml",
        &app_yaml("vault", "vault", true, true, ""),
    );
    write(
        root,
        "apps/vault/base/config.yaml",
        &config_map("vault-config", "MODE", "sealed"),
    );
    write(root, SECRET_FILE, &encrypted_secret(keys, recipient, FIRST));
}

#[test]
fn a_sops_secret_is_decrypted_only_by_the_agent_and_never_leaks() {
    let keys = tempfile::tempdir().unwrap();
    let (key_file, recipient) = age_key(keys.path());
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    vault_fleet(root, keys.path(), &recipient);
    let remote = FleetRemote::with_content(root);
    let revision = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let cluster = SimCluster::start("edge-1");
    let agent = AgentProcess::start_with_arguments(
        &hub,
        &cluster,
        &token(&hub, "edge-1"),
        &["--sops-age-key-file", key_file.to_str().unwrap()],
    );
    let diagnostics = || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log());
    eventually(
        "edge-1 synced and healthy",
        WAIT,
        || synced_and_healthy(&hub, "edge-1", &revision).then_some(()),
        diagnostics,
    );

    // The cluster holds the plaintext, with fleet's labels and namespace.
    assert_eq!(password_in_cluster(&cluster).as_deref(), Some(FIRST));
    let secret = cluster.get("secret", "vault", "credentials").unwrap();
    assert_eq!(secret["metadata"]["labels"]["fleet/app"], "vault");
    assert_eq!(secret["metadata"]["labels"]["fleet/cluster"], "edge-1");
    assert_eq!(secret["metadata"]["labels"]["team"], "storage");

    // Nothing outside the cluster holds it.
    let render = hub
        .fleetctl(&[
            "render",
            "--repo",
            remote.work().to_str().unwrap(),
            "--cluster",
            "edge-1",
        ])
        .success();
    assert!(
        render.stdout.contains("ENC[AES256_GCM"),
        "{}",
        render.stdout
    );
    assert_absent("fleetctl render", &render.stdout, &[FIRST]);
    let status = hub.fleetctl(&["status", "-o", "json"]).success();
    assert_absent("fleetctl status -o json", &status.stdout, &[FIRST]);
    assert_absent(
        "the hub's data directory",
        &every_file(&hub.hub_dir()),
        &[FIRST],
    );
    assert_absent("the hub's log", &hub.log(), &[FIRST]);
    // fleetctl render decrypts only when given the key.
    let decrypted = hub
        .fleetctl(&[
            "render",
            "--repo",
            remote.work().to_str().unwrap(),
            "--cluster",
            "edge-1",
            "--sops-age-key-file",
            key_file.to_str().unwrap(),
        ])
        .success();
    assert!(decrypted.stdout.contains(FIRST), "{}", decrypted.stdout);

    // A hand edit is reverted, and the drift report shows no value.
    cluster
        .kubectl(&[
            "patch",
            "secret",
            "credentials",
            "--namespace",
            "vault",
            "--type",
            "merge",
            "-p",
            &format!(r#"{{"stringData":{{"password":"{EDITED}"}}}}"#),
        ])
        .success();
    eventually(
        "the hub shows the reverted drift without values",
        WAIT,
        || {
            message(&hub)
                .contains(
                    "vault: drift reverted: Secret vault/credentials: /data/password: \"(redacted)\" → \"(redacted)\"",
                )
                .then_some(())
        },
        diagnostics,
    );
    eventually(
        "the Secret holds the Git value again",
        WAIT,
        || (password_in_cluster(&cluster).as_deref() == Some(FIRST)).then_some(()),
        diagnostics,
    );

    // A re-encrypted value is a change like any other: it rolls out.
    remote.write(
        SECRET_FILE,
        &encrypted_secret(keys.path(), &recipient, SECOND),
    );
    let rotated = remote.commit_and_push("rotate the vault password");
    assert_eq!(hub.webhook(&hub.webhook_secret()), 202);
    eventually(
        "the new password rolls out",
        WAIT,
        || {
            (synced_and_healthy(&hub, "edge-1", &rotated)
                && password_in_cluster(&cluster).as_deref() == Some(SECOND))
            .then_some(())
        },
        diagnostics,
    );

    let everything = [FIRST, SECOND, EDITED];
    let status = hub.fleetctl(&["status", "-o", "json"]).success();
    assert_absent("fleetctl status -o json", &status.stdout, &everything);
    assert_absent(
        "the hub's data directory",
        &every_file(&hub.hub_dir()),
        &everything,
    );
    assert_absent("the hub's log", &hub.log(), &everything);
    assert_absent("the agent's log", &agent.log(), &everything);
    assert_absent(
        "the agent's state directory",
        &every_file(&agent.state_dir()),
        &everything,
    );
}

#[test]
fn an_agent_without_the_key_applies_the_rest_and_names_the_recipients() {
    let keys = tempfile::tempdir().unwrap();
    let (_key_file, recipient) = age_key(keys.path());
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    vault_fleet(root, keys.path(), &recipient);
    let remote = FleetRemote::with_content(root);
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let cluster = SimCluster::start("edge-1");
    // No --sops-age-key-file: as with the optional Secret not created.
    let agent = AgentProcess::start(&hub, &cluster, &token(&hub, "edge-1"));
    let expected = format!(
        "cannot decrypt {SECRET_FILE} for cluster edge-1: no matching age identity (recipients: {recipient})"
    );
    eventually(
        "the hub shows the object that cannot be decrypted",
        WAIT,
        || {
            let status = cluster_status(&hub, "edge-1");
            (message(&hub).contains(&expected) && status["health"] == "Degraded").then_some(())
        },
        || format!("{}\n{}", cluster_status(&hub, "edge-1"), agent.log()),
    );
    // The rest of the app is applied; nothing of the Secret is.
    eventually(
        "the app's other objects are applied",
        WAIT,
        || {
            cluster
                .get("configmap", "vault", "vault-config")
                .map(|_| ())
        },
        || agent.log(),
    );
    assert!(cluster.get("secret", "vault", "credentials").is_none());
    assert_absent("the agent's log", &agent.log(), &[FIRST]);
}
