//! The agent's footprint and reaction time, against fleet-sim with a real
//! hub and a real `fleet-agent` process:
//!
//! - resident memory (VmRSS) when idle (one object managed) and with 1,000
//!   managed objects;
//! - the time from a manual edit of a managed field to its revert, measured
//!   from the moment the edit's PATCH returned to the first read that shows
//!   the original value (reads every 5 ms), over many edits.
//!
//! `cargo bench -p fleet-tests --bench agent` (release binaries), or with
//! `--profile dev` for a quick run on debug binaries. Prints a Markdown table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use fleet_tests::agent_process::AgentProcess;
use fleet_tests::agent_support::{eventually, synced_and_healthy, token};
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::{app_yaml, fleet, write};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

const OBJECTS: usize = 1000;
const EDITS: usize = 200;
const SETTLE: Duration = Duration::from_secs(5);

fn config_maps(count: usize) -> String {
    let mut text = String::new();
    for index in 0..count {
        writeln!(
            text,
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bulk-{index:04}\ndata:\n  VALUE: \"original-{index}\"\n  OTHER: \"unchanged\""
        )
        .unwrap();
    }
    text
}

fn wait_synced(hub: &HubProcess, revision: &str, agent: &AgentProcess) {
    eventually(
        "synced and healthy",
        Duration::from_secs(300),
        || synced_and_healthy(hub, "bench-1", revision).then_some(()),
        || {
            agent
                .log()
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        },
    );
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    fleet(root, &["bench-1"]);
    write(
        root,
        "apps/bulk/app.yaml",
        &app_yaml("bulk", "bulk", true, true, ""),
    );
    write(root, "apps/bulk/base/objects.yaml", &config_maps(1));
    let remote = FleetRemote::with_content(root);
    let first = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let cluster = SimCluster::start("bench-1");
    let agent = AgentProcess::start(&hub, &cluster, &token(&hub, "bench-1"));

    wait_synced(&hub, &first, &agent);
    std::thread::sleep(SETTLE);
    let idle_kib = agent.resident_kib().unwrap();

    write(
        &remote.work(),
        "apps/bulk/base/objects.yaml",
        &config_maps(OBJECTS),
    );
    let second = remote.commit_and_push("1,000 objects");
    let applying = Instant::now();
    hub.fleetctl(&["refresh"]).success();
    wait_synced(&hub, &second, &agent);
    let apply_time = applying.elapsed();
    std::thread::sleep(SETTLE);
    let loaded_kib = agent.resident_kib().unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let latencies = runtime.block_on(async {
        let kubeconfig = Kubeconfig::read_from(&cluster.kubeconfig).unwrap();
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .unwrap();
        let client = kube::Client::try_from(config).unwrap();
        let api: kube::Api<ConfigMap> = kube::Api::namespaced(client, "bulk");
        let mut latencies = Vec::with_capacity(EDITS);
        for edit in 0..EDITS {
            let index = (edit * 7919) % OBJECTS;
            let name = format!("bulk-{index:04}");
            let original = format!("original-{index}");
            let patch = serde_json::json!({"data": {"VALUE": format!("edited-{edit}")}});
            api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .unwrap();
            let edited = Instant::now();
            loop {
                let current = api.get(&name).await.unwrap();
                let value = current
                    .data
                    .as_ref()
                    .and_then(|data| data.get("VALUE"))
                    .cloned()
                    .unwrap_or_default();
                if value == original {
                    latencies.push(edited.elapsed());
                    break;
                }
                assert!(
                    edited.elapsed() < Duration::from_secs(30),
                    "{name} never reverted"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        latencies
    });
    let after_edits_kib = agent.resident_kib().unwrap();
    let mut sorted = latencies.clone();
    sorted.sort();
    let agent_binary = std::env::var_os("FLEET_TEST_AGENT_BINARY")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::current_exe().unwrap());
    let profile = if agent_binary
        .components()
        .any(|part| part.as_os_str() == "release")
    {
        "release"
    } else {
        "debug"
    };
    println!("fleet-agent ({profile} build) against fleet-sim, one hub node, 2-core machine\n");
    println!("| measure | value | goal |");
    println!("|---|---|---|");
    println!(
        "| resident memory, idle (1 object) | {:.1} MiB | ≤ 15 MiB |",
        idle_kib as f64 / 1024.0
    );
    println!(
        "| resident memory, {OBJECTS} objects | {:.1} MiB | ≤ 40 MiB |",
        loaded_kib as f64 / 1024.0
    );
    println!(
        "| resident memory after {EDITS} reverts | {:.1} MiB | |",
        after_edits_kib as f64 / 1024.0
    );
    println!(
        "| commit → {OBJECTS} objects applied and reported | {:.1} s | |",
        apply_time.as_secs_f64()
    );
    println!(
        "| edit → revert, p50 / p99 / max ({EDITS} edits) | {:.0} / {:.0} / {:.0} ms | p99 ≤ 1 s |",
        percentile(&sorted, 0.5).as_secs_f64() * 1000.0,
        percentile(&sorted, 0.99).as_secs_f64() * 1000.0,
        sorted.last().unwrap().as_secs_f64() * 1000.0
    );
    let metrics_address = format!("127.0.0.1:{}", agent.metrics_port).parse().unwrap();
    if let Ok((200, metrics)) = fleet_tests::net::http(metrics_address, "GET", "/metrics", &[], b"")
    {
        println!(
            "\nagent metrics:\n```\n{}```",
            metrics
                .lines()
                .filter(|line| line.contains("revert_seconds")
                    || line.contains("drift_events_total")
                    || line.contains("applies_total"))
                .map(|line| format!("{line}\n"))
                .collect::<String>()
        );
    }
    drop(agent);
    drop(cluster);
    hub.kill();
}
