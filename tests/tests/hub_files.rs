//! The files `fleet-hub init` writes: the hub folder is 0700 and every key
//! and the webhook secret are 0600; a hub whose webhook secret is empty
//! refuses to start, saying which file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fleet_tests::binaries::binary;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::HubProcess;

#[test]
fn init_writes_private_files_private_and_an_empty_webhook_secret_is_refused() {
    let remote = FleetRemote::with_content(&examples());
    let hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    let mode = |name: &str| {
        std::fs::metadata(hub.hub_dir().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(""), 0o700, "the hub folder");
    for private in ["ca.key", "hub.key", "admin.key", "webhook-secret"] {
        assert_eq!(mode(private), 0o600, "{private}");
    }
    assert_eq!(mode("ca.crt") & 0o600, 0o600);

    std::fs::write(hub.hub_dir().join("webhook-secret"), "  \n").unwrap();
    let mut child = Command::new(binary("fleet-hub"))
        .args([
            "serve",
            "--config",
            hub.hub_dir().join("hub.yaml").to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It must exit by itself; a hub that serves is killed and the test fails.
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let still_running = child.try_wait().unwrap().is_none();
    if still_running {
        child.kill().unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        !still_running,
        "fleet-hub served with an empty webhook secret"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("webhook-secret") && stderr.contains("is empty"),
        "{stderr}"
    );
}
