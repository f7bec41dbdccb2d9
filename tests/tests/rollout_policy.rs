//! Rollout policy end to end (issue #19) with the real hub, a REAL
//! Prometheus (Debian's `prometheus`, on loopback, scraping a tiny exporter
//! this test serves and controls), and protocol-level agents: a gate that
//! passes lets a change succeed, a raised error ratio fails the next change
//! at its wave and rolls it back naming the gate, a held cluster keeps its
//! revision and catches up on release, and an open deny window holds a wave.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fleet_tests::agent_client::enroll_responders;
use fleet_tests::git_fixture::{FleetRemote, examples};
use fleet_tests::hub_process::HubProcess;
use fleet_tests::tools::tool;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use fleet_tests::git_fixture::EXAMPLE_CLUSTERS as CLUSTERS;

/// The exporter: `fleet_test_error_ratio{cluster="…"}` for every cluster,
/// at the value the test sets.
async fn serve_exporter(ratio: Arc<AtomicU64>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let value = f64::from_bits(ratio.load(Ordering::SeqCst));
            tokio::spawn(async move {
                let mut request = [0_u8; 4096];
                let _ = socket.read(&mut request).await;
                let body: String = CLUSTERS
                    .iter()
                    .map(|cluster| {
                        format!("fleet_test_error_ratio{{cluster=\"{cluster}\"}} {value}\n")
                    })
                    .collect();
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

struct Prometheus {
    child: Child,
    port: u16,
    _directory: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_prometheus(exporter_port: u16) -> Prometheus {
    let directory = tempfile::tempdir().unwrap();
    let config = directory.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: exporter\n    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(tool("prometheus"))
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            directory.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Prometheus {
        child,
        port,
        _directory: directory,
    }
}

/// The current value of the error ratio as Prometheus answers it.
fn prometheus_value(port: u16) -> Option<f64> {
    let output = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "5",
            &format!("http://127.0.0.1:{port}/api/v1/query?query=max(fleet_test_error_ratio)"),
        ])
        .output()
        .ok()?;
    let answer: Value = serde_json::from_slice(&output.stdout).ok()?;
    answer["data"]["result"][0]["value"][1]
        .as_str()?
        .parse()
        .ok()
}

fn json(hub: &HubProcess, arguments: &[&str]) -> Value {
    serde_json::from_str(&hub.fleetctl(arguments).success().stdout).unwrap()
}

fn targets(hub: &HubProcess) -> BTreeMap<String, String> {
    json(hub, &["status", "-o", "json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|cluster| {
            (
                cluster["name"].as_str().unwrap().to_owned(),
                cluster["targetRevision"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn rollout(hub: &HubProcess) -> Value {
    json(hub, &["rollout", "status", "-o", "json"])
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// A daily cron schedule (UTC) that matched one minute ago.
fn started_a_minute_ago() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 60;
    let minute_of_day = (seconds % 86_400) / 60;
    format!("{} {} * * *", minute_of_day % 60, minute_of_day / 60)
}

const GATE: &str = "        bake: 1s
        gates:
          - name: error-ratio
            prometheus:
              query: max(fleet_test_error_ratio{cluster=~\"${wave.clusters}\"})
              max: 0.01
            interval: 1s
            failureLimit: 0
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gates_holds_and_windows_steer_rollouts_against_a_real_prometheus() {
    let ratio = Arc::new(AtomicU64::new(0.001_f64.to_bits()));
    let exporter = serve_exporter(ratio.clone()).await;
    let prometheus = start_prometheus(exporter).await;

    let remote = FleetRemote::with_content(&examples());
    // The canary wave is gated; short bakes; production needs no promote.
    remote.edit(
        "fleet.yaml",
        "        bake: 2m\n      - name: dev",
        &format!("{GATE}      - name: dev"),
    );
    remote.edit("fleet.yaml", "bake: 2m", "bake: 1s");
    remote.edit("fleet.yaml", "approval: manual", "approval: auto");
    remote.commit_and_push("gated canary, short bakes");
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    let hub_yaml = hub.hub_dir().join("hub.yaml");
    let mut text = std::fs::read_to_string(&hub_yaml).unwrap();
    text.push_str(&format!(
        "analysis:\n  prometheus:\n    url: http://127.0.0.1:{}\n",
        prometheus.port
    ));
    std::fs::write(&hub_yaml, text).unwrap();
    hub.start();
    enroll_responders(&hub, &CLUSTERS).await;
    let first = remote.head();
    eventually("the first revision reaches every cluster", || {
        targets(&hub).values().all(|target| *target == first)
    })
    .await;
    eventually("Prometheus scraped the exporter", || {
        prometheus_value(prometheus.port) == Some(0.001)
    })
    .await;

    // A good change passes the gate and succeeds.
    remote.edit("apps/web/base/deployment.yaml", "web:1.4.2", "web:1.5.0");
    let good = remote.commit_and_push("web 1.5.0");
    hub.fleetctl(&["refresh"]).success();
    eventually("the good change succeeds", || {
        let view = rollout(&hub);
        view["revision"] == good.as_str() && view["state"] == "Succeeded"
    })
    .await;
    let canary = rollout(&hub)["waves"][0]["gates"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        canary.starts_with("error-ratio: passed (value 0.001)"),
        "{canary}"
    );

    // The error ratio rises: the next change fails the gate and rolls back.
    ratio.store(0.2_f64.to_bits(), Ordering::SeqCst);
    eventually("Prometheus sees the raised ratio", || {
        prometheus_value(prometheus.port) == Some(0.2)
    })
    .await;
    remote.edit("apps/web/base/deployment.yaml", "web:1.5.0", "web:1.6.0");
    let bad = remote.commit_and_push("web 1.6.0");
    hub.fleetctl(&["refresh"]).success();
    eventually("the bad change is rolled back", || {
        let view = rollout(&hub);
        view["revision"] == bad.as_str() && view["state"] == "RolledBack"
    })
    .await;
    let reason = rollout(&hub)["reason"].as_str().unwrap().to_owned();
    assert!(
        reason.contains("gate error-ratio failed: value 0.2 above max 0.01"),
        "{reason}"
    );
    assert!(targets(&hub).values().all(|target| *target == good));

    // A held cluster keeps its revision through a rollout and catches up.
    ratio.store(0.001_f64.to_bits(), Ordering::SeqCst);
    eventually("Prometheus sees the ratio back down", || {
        prometheus_value(prometheus.port) == Some(0.001)
    })
    .await;
    hub.fleetctl(&[
        "cluster",
        "hold",
        "prod-us-2",
        "--reason",
        "database migration",
    ])
    .success();
    let status = hub.fleetctl(&["status"]).success().stdout;
    assert!(status.contains("database migration (held by"), "{status}");
    remote.edit("apps/web/base/deployment.yaml", "web:1.6.0", "web:1.7.0");
    let third = remote.commit_and_push("web 1.7.0");
    hub.fleetctl(&["refresh"]).success();
    eventually("the third change succeeds around the held cluster", || {
        let view = rollout(&hub);
        view["revision"] == third.as_str() && view["state"] == "Succeeded"
    })
    .await;
    let now = targets(&hub);
    assert_eq!(now["prod-us-2"], good, "held: {now:?}");
    assert_eq!(now["prod-us-1"], third);
    let shown = hub.fleetctl(&["rollout", "status"]).success().stdout;
    assert!(
        shown.contains("held: prod-us-2: database migration"),
        "{shown}"
    );
    hub.fleetctl(&["cluster", "release", "prod-us-2"]).success();
    eventually("the released cluster catches up", || {
        targets(&hub)["prod-us-2"] == third
    })
    .await;
    let audit = hub.fleetctl(&["audit"]).success().stdout;
    assert!(
        audit.contains("held cluster prod-us-2: database migration"),
        "{audit}"
    );
    assert!(
        audit.contains("released the hold on cluster prod-us-2"),
        "{audit}"
    );

    // A deny window open now holds production, and rollout status says so.
    remote.edit(
        "fleet.yaml",
        "    maxFailures: 0",
        &format!(
            "    windows:\n      - kind: deny\n        schedule: \"{}\"\n        duration: 2h\n        waves: [production]\n    maxFailures: 0",
            started_a_minute_ago()
        ),
    );
    remote.edit("apps/web/base/deployment.yaml", "web:1.7.0", "web:1.8.0");
    let frozen = remote.commit_and_push("web 1.8.0 during a freeze");
    hub.fleetctl(&["refresh"]).success();
    eventually("production waits for its window", || {
        let view = rollout(&hub);
        view["revision"] == frozen.as_str()
            && view["waves"]
                .as_array()
                .unwrap()
                .iter()
                .any(|wave| wave["name"] == "production" && wave["waitingForWindow"] == true)
    })
    .await;
    let shown = hub.fleetctl(&["rollout", "status"]).success().stdout;
    assert!(
        shown.contains("waiting for window (opens in 1h5")
            || shown.contains("waiting for window (opens in 2h00m)"),
        "{shown}"
    );
    assert_eq!(targets(&hub)["prod-us-1"], third, "production did not move");
}
