//! Operators with roles against a real hub process (issue #15): fleetctl
//! makes users with self-contained configurations, the hub holds each call
//! to the caller's role and environment scope as its replicated state says,
//! refusals are PERMISSION_DENIED naming role and action and are audited,
//! revoked users and clusters are refused from their next call on (an open
//! agent session is cut).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use fleet_tests::agent_client::enroll;
use fleet_tests::agent_support::eventually;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::{HubProcess, Run, fleetctl_with_config};
use serde_json::Value;

fn refused(run: &Run, needle: &str) {
    assert_eq!(
        run.code, 1,
        "expected a refusal\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains("PermissionDenied") && run.stderr.contains(needle),
        "expected PERMISSION_DENIED with '{needle}', got:\n{}",
        run.stderr
    );
}

fn json(run: Run) -> Value {
    serde_json::from_str(&run.success().stdout).unwrap()
}

fn audit(hub: &HubProcess) -> Vec<Value> {
    json(hub.fleetctl(&["audit", "-o", "json"]))
        .as_array()
        .unwrap()
        .clone()
}

fn create_user(hub: &HubProcess, file: &Path, name: &str, extra: &[&str]) {
    let mut arguments = vec!["user", "create", name, "--out", file.to_str().unwrap()];
    arguments.extend_from_slice(extra);
    hub.fleetctl(&arguments).success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_scopes_revocation_and_audit_are_enforced_per_call() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    eventually(
        "the hub records its first revision",
        Duration::from_secs(120),
        || {
            let run = hub.fleetctl(&["revisions", "-o", "json"]);
            (run.code == 0 && run.stdout.contains("\"valid\": true")).then_some(())
        },
        || hub.log(),
    );
    let folder = tempfile::tempdir().unwrap();
    let vera = folder.path().join("vera.yaml");
    let sam = folder.path().join("sam.yaml");
    let root = folder.path().join("root.yaml");
    create_user(&hub, &vera, "vera", &["--role", "viewer", "--ttl", "90d"]);
    create_user(
        &hub,
        &sam,
        "sam",
        &["--role", "operator", "--environment", "staging"],
    );
    create_user(&hub, &root, "root", &["--role", "admin"]);

    // A self-contained configuration, readable by its owner only.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&vera).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&vera).unwrap();
    for field in ["caData", "certificateData", "keyData", "PRIVATE KEY"] {
        assert!(text.contains(field), "{field} missing in\n{text}");
    }
    assert!(!text.contains("admin.key"), "{text}");
    // Refused: a second user of the same name.
    let again = hub.fleetctl(&[
        "user",
        "create",
        "vera",
        "--role",
        "admin",
        "--out",
        folder.path().join("other.yaml").to_str().unwrap(),
    ]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    // Refused: a scope naming no environment of the fleet.
    let typo = hub.fleetctl(&[
        "user",
        "create",
        "tom",
        "--role",
        "operator",
        "--environment",
        "stagin",
        "--out",
        folder.path().join("tom.yaml").to_str().unwrap(),
    ]);
    assert_eq!(typo.code, 1, "{}", typo.stderr);
    assert!(
        typo.stderr.contains("stagin not declared") && typo.stderr.contains("staging"),
        "{}",
        typo.stderr
    );
    assert!(!folder.path().join("tom.yaml").exists());

    // A viewer reads, but may neither pause nor mint tokens.
    fleetctl_with_config(&vera, &["status"]).success();
    fleetctl_with_config(&vera, &["rollout", "status"]).success();
    refused(
        &fleetctl_with_config(&vera, &["rollout", "pause"]),
        "role viewer may not pause rollouts",
    );
    refused(
        &fleetctl_with_config(&vera, &["token", "create", "--cluster", "prod-eu-1"]),
        "role viewer may not mint bootstrap tokens",
    );
    refused(
        &fleetctl_with_config(
            &vera,
            &[
                "user",
                "create",
                "eve",
                "--role",
                "admin",
                "--out",
                "/dev/null/x",
            ],
        ),
        "role viewer may not manage users",
    );

    // An operator scoped to staging refreshes, but may not promote production.
    fleetctl_with_config(&sam, &["refresh"]).success();
    let promote = fleetctl_with_config(&sam, &["rollout", "promote", "--wave", "production"]);
    refused(&promote, "scoped to environments staging");
    assert!(
        promote.stderr.contains("wave production") && promote.stderr.contains("(environment prod)"),
        "{}",
        promote.stderr
    );
    refused(
        &fleetctl_with_config(&sam, &["cluster", "revoke", "prod-eu-1"]),
        "role operator may not revoke clusters",
    );

    // Users as the state records them.
    let users = json(hub.fleetctl(&["user", "list", "-o", "json"]));
    let sam_record = users
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["name"] == "sam")
        .unwrap();
    assert_eq!(sam_record["role"], "operator");
    assert_eq!(sam_record["environments"], serde_json::json!(["staging"]));
    assert_eq!(sam_record["revoked"], false);
    // The init admin was recorded as the admin user of its name on its first call.
    let ops = users
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["name"] == "ops")
        .unwrap();
    assert_eq!(ops["role"], "admin");
    assert_eq!(ops["createdBy"], "fleet-hub init");

    // The audit log has the user, role and outcome of allowed and refused calls.
    let entries = audit(&hub);
    let find = |actor: &str, outcome: &str, text: &str| {
        entries.iter().any(|entry| {
            entry["actor"] == actor
                && entry["outcome"] == outcome
                && (entry["action"].as_str().unwrap().contains(text)
                    || entry["reason"].as_str().unwrap().contains(text))
        })
    };
    assert!(
        find(
            "spiffe://fleet/user/vera",
            "refused",
            "role viewer may not pause rollouts"
        ),
        "{entries:#?}"
    );
    assert!(
        find(
            "spiffe://fleet/user/sam",
            "refused",
            "scoped to environments staging"
        ),
        "{entries:#?}"
    );
    assert!(
        find("spiffe://fleet/user/sam", "allowed", "refreshed from Git"),
        "{entries:#?}"
    );
    let refresh = entries
        .iter()
        .find(|entry| entry["actor"] == "spiffe://fleet/user/sam" && entry["outcome"] == "allowed")
        .unwrap();
    assert_eq!(refresh["role"], "operator");
    assert!(
        find(
            "spiffe://fleet/admin/ops",
            "allowed",
            "created user vera with role viewer"
        ),
        "{entries:#?}"
    );

    // A user renews its own certificate; the configuration keeps working.
    let before = std::fs::read_to_string(&sam).unwrap();
    fleetctl_with_config(&sam, &["user", "renew"]).success();
    let after = std::fs::read_to_string(&sam).unwrap();
    assert_ne!(before, after, "the renewed certificate and key are saved");
    fleetctl_with_config(&sam, &["refresh"]).success();

    // After `user revoke`, the user's next call is refused with "revoked".
    hub.fleetctl(&["user", "revoke", "vera"]).success();
    refused(
        &fleetctl_with_config(&vera, &["status"]),
        "user 'vera' has been revoked",
    );
    // The init admin is an admin until revoked by name, like any user.
    fleetctl_with_config(&root, &["user", "revoke", "ops"]).success();
    refused(&hub.fleetctl(&["status"]), "user 'ops' has been revoked");
    fleetctl_with_config(&root, &["status"]).success();

    // `cluster revoke` cuts the open session of the cluster's agent.
    let token = fleetctl_with_config(&root, &["token", "create", "--cluster", "prod-eu-1"])
        .success()
        .stdout
        .trim()
        .to_owned();
    let agent = enroll(&hub.endpoint(), &hub.ca_pem(), "prod-eu-1", &token)
        .await
        .unwrap();
    let mut session = agent.session().await.unwrap();
    session
        .next_desired(Duration::from_secs(60))
        .await
        .expect("the session is open and serves desired state");
    let revoke = tokio::task::spawn_blocking(move || {
        fleetctl_with_config(&root, &["cluster", "revoke", "prod-eu-1"])
    })
    .await
    .unwrap()
    .success();
    assert!(revoke.stdout.contains("revoked"), "{}", revoke.stdout);
    let ended = loop {
        match session.next_desired(Duration::from_secs(60)).await {
            Ok(_) => continue,
            Err(status) => break status,
        }
    };
    assert!(ended.message().contains("revoked"), "{ended:?}");
    let reopened = match agent.session().await {
        Err(status) => status,
        Ok(mut session) => session
            .next_desired(Duration::from_secs(60))
            .await
            .unwrap_err(),
    };
    assert!(reopened.message().contains("revoked"), "{reopened:?}");
}

#[test]
fn a_storm_of_refused_calls_is_audited_within_the_per_minute_limit() {
    let remote = FleetRemote::with_content(&examples());
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.set_setting("refusalAuditsPerMinute", "1");
    hub.start();
    let folder = tempfile::tempdir().unwrap();
    let vera = folder.path().join("vera.yaml");
    create_user(&hub, &vera, "vera", &["--role", "viewer"]);
    for _ in 0..5 {
        refused(
            &fleetctl_with_config(&vera, &["rollout", "pause"]),
            "role viewer may not pause rollouts",
        );
    }
    let written = audit(&hub)
        .iter()
        .filter(|entry| {
            entry["actor"] == "spiffe://fleet/user/vera" && entry["outcome"] == "refused"
        })
        .count();
    // One a minute: one entry, two if the calls straddled a minute's end.
    assert!((1..=2).contains(&written), "{written} refusals audited");
}
