//! Log lines written to a file or a pipe carry no ANSI colour codes, for
//! every binary: fleet-hub and fleet-agent (stderr to a file), fleet-sim
//! and fleetctl (stderr to a pipe) — in text and in JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::{eventually, synced_and_healthy, token};
use fleet_tests::binaries::binary;
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::web_fleet;

const ESCAPE: &str = "\u{1b}[";

fn assert_plain(what: &str, log: &str, expected: &str) {
    assert!(
        log.contains(expected),
        "{what} logged no {expected:?}:\n{log}"
    );
    assert!(!log.contains(ESCAPE), "{what} wrote colour codes:\n{log:?}");
}

/// `fleet-sim serve` with stderr to a pipe: its start-up log line.
fn sim_log(format: &str) -> String {
    let mut child = Command::new(binary("fleet-sim"))
        .args(["serve", "--no-tls", "--port", "0", "--log-format", format])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    assert!(url.starts_with("http://"), "{url}");
    // The start-up line is written before the URL; stop and read it all.
    child.kill().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    child.wait().unwrap();
    log
}

#[test]
fn logs_to_files_and_pipes_have_no_colour_codes() {
    let text = sim_log("text");
    assert_plain("fleet-sim", &text, "INFO");
    let json = sim_log("json");
    assert_plain("fleet-sim --log-format json", &json, "\"level\":\"INFO\"");

    let content = tempfile::tempdir().unwrap();
    web_fleet(content.path(), &["edge-1"]);
    let remote = FleetRemote::with_content(content.path());
    let revision = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let cluster = SimCluster::start("edge-1");
    let agent = AgentProcess::start(&hub, &cluster, &token(&hub, "edge-1"));
    eventually(
        "edge-1 synced",
        Duration::from_secs(60),
        || synced_and_healthy(&hub, "edge-1", &revision).then_some(()),
        || agent.log(),
    );
    assert_plain("fleet-hub", &hub.log(), "INFO");
    assert_plain("fleet-agent", &agent.log(), "INFO");

    for (format, expected) in [("text", "DEBUG"), ("json", "\"level\":\"DEBUG\"")] {
        let output = Command::new(binary("fleetctl"))
            .args(["status", "--log-format", format])
            .env("FLEETCONFIG", hub.fleetconfig())
            .env("FLEETCTL_LOG", "fleetctl=debug")
            .output()
            .unwrap();
        assert!(output.status.success());
        let log = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_plain(&format!("fleetctl --log-format {format}"), &log, expected);
        assert!(log.contains("listing the hub's clusters"), "{log}");
    }
}
