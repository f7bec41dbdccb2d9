//! The scale harness end to end at a small N, so it cannot rot: `fleetctl
//! bench rollout` starts a real hub process, enrolls 200 simulated agents
//! (real tokens, real `Enroll`, one mTLS session each), commits a change to
//! every cluster and follows the wave rollout. With agents killed mid-rollout
//! the rollout must behave as DESIGN §4 says — the progress deadline fails
//! them, the failure budget decides between rollback and carrying on — and
//! the agents must come back and converge.
//!
//! Only outcomes are asserted; the timings are benchmark figures (README).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use fleet_tests::binaries::binary;
use serde_json::Value;

const CLUSTERS: u64 = 200;

fn bench_rollout(extra: &[&str]) -> Value {
    let hub = binary("fleet-hub");
    let output = Command::new(binary("fleetctl"))
        .args([
            "bench",
            "rollout",
            "--clusters",
            &CLUSTERS.to_string(),
            "-o",
            "json",
        ])
        .arg("--hub-binary")
        .arg(&hub)
        .args(extra)
        .output()
        .expect("fleetctl runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "fleetctl bench rollout failed: {stderr}"
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("bench output is not JSON ({error}); stderr: {stderr}"))
}

fn waves(figures: &Value) -> Vec<(String, String)> {
    figures["waves"]
        .as_array()
        .expect("waves")
        .iter()
        .map(|wave| {
            (
                wave["name"].as_str().unwrap().to_owned(),
                wave["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_four_wave_rollout_reaches_every_simulated_agent() {
    let figures = bench_rollout(&[]);
    assert_eq!(figures["clusters"], CLUSTERS);
    assert_eq!(figures["outcome"], "Succeeded");
    assert_eq!(
        figures["held"], CLUSTERS,
        "every agent held the new revision"
    );
    assert_eq!(figures["failedClusters"], 0);
    assert_eq!(
        waves(&figures),
        [
            ("canary".to_owned(), "Succeeded".to_owned()),
            ("dev".to_owned(), "Succeeded".to_owned()),
            ("staging".to_owned(), "Succeeded".to_owned()),
            ("production".to_owned(), "Succeeded".to_owned()),
        ]
    );
    assert_eq!(figures["releaseToHeld"]["count"], CLUSTERS);
    assert!(figures["raftEntries"].as_u64().unwrap() > 0);
    assert!(figures["idleRssMib"].as_f64().unwrap() > 0.0);
    assert!(figures["rolloutCpuSeconds"].as_f64().unwrap() >= 0.0);
}

#[test]
fn agents_killed_mid_rollout_fail_the_deadline_and_the_rollout_rolls_back() {
    let figures = bench_rollout(&["--kill-percent", "10", "--progress-deadline", "3s"]);
    assert_eq!(figures["killed"], CLUSTERS / 10);
    assert_eq!(figures["outcome"], "RolledBack");
    let reason = figures["reason"].as_str().unwrap();
    assert!(
        reason.contains("did not converge within the progress deadline of 3s"),
        "{reason}"
    );
    assert!(figures["failedClusters"].as_u64().unwrap() >= 1);
    assert!(
        figures["held"].as_u64().unwrap() < CLUSTERS,
        "the killed agents never held the new revision"
    );
    let states = waves(&figures);
    assert_eq!(states[0], ("canary".to_owned(), "Succeeded".to_owned()));
    assert!(
        states.iter().any(|(_, state)| state == "Failed"),
        "{states:?}"
    );
    // The restarted agents reconnected and every cluster converged again
    // (on the rolled-back revision): the harness waits for exactly that.
    assert!(figures["recoveredMs"].is_u64());
}

#[test]
fn within_the_failure_budget_the_rollout_completes_and_the_killed_agents_catch_up() {
    let figures = bench_rollout(&[
        "--kill-percent",
        "10",
        "--progress-deadline",
        "3s",
        "--max-failures",
        "20",
    ]);
    assert_eq!(figures["killed"], CLUSTERS / 10);
    assert_eq!(figures["outcome"], "Succeeded");
    assert_eq!(figures["failedClusters"], CLUSTERS / 10);
    // After the restart every agent, the killed ones included, holds the new
    // revision and every cluster converged on it.
    assert_eq!(figures["held"], CLUSTERS);
    assert!(figures["recoveredMs"].is_u64());
}
