//! `fleet-sim bench`: throughput of server-side apply and of watch fan-out,
//! measured over real HTTP(S) against an in-process simulator, printed as a
//! small table. Numbers size test fleets and demos; they are never asserted.

mod connection;

use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::json;

use crate::cli::BenchArgs;
use crate::{RunningSimulator, SimConfig, Simulator};
use connection::Connection;

const APPLY: &str = "application/apply-patch+yaml";

/// One line of the results table.
struct Row {
    benchmark: String,
    operations: usize,
    seconds: f64,
    unit: &'static str,
}

fn config_map(index: usize) -> Bytes {
    Bytes::from(
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("bench-{index}"), "labels": {"app": "bench", "shard": (index % 10).to_string()}},
            "data": {"index": index.to_string(), "payload": "x".repeat(200)}
        })
        .to_string(),
    )
}

fn deployment(index: usize) -> Bytes {
    Bytes::from(
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("bench-{index}"), "labels": {"app": "bench"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": format!("bench-{index}")}},
                "template": {
                    "metadata": {"labels": {"app": format!("bench-{index}")}},
                    "spec": {"containers": [{
                        "name": "main", "image": "nginx:1.27",
                        "ports": [{"containerPort": 80}],
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}
                    }]}
                }
            }
        })
        .to_string(),
    )
}

/// Applies `count` objects over `clients` connections; returns seconds taken.
async fn apply_all(
    simulator: &RunningSimulator,
    clients: usize,
    count: usize,
    collection: &'static str,
    body: fn(usize) -> Bytes,
) -> anyhow::Result<f64> {
    let clients = clients.max(1);
    let mut connections = Vec::new();
    for _ in 0..clients {
        connections.push(Connection::open(simulator).await?);
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (client, mut connection) in connections.into_iter().enumerate() {
        tasks.spawn(async move {
            for index in (client..count).step_by(clients) {
                let path = format!("{collection}/bench-{index}?fieldManager=bench&force=true");
                connection.call("PATCH", &path, APPLY, body(index)).await?;
            }
            Ok::<(), connection::ConnectionError>(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.context("apply task")??;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Opens `watchers` watches, writes `events` ConfigMaps, and measures until
/// every watcher has received every event.
async fn watch_fan_out(
    simulator: &RunningSimulator,
    watchers: usize,
    events: usize,
) -> anyhow::Result<(f64, f64)> {
    let namespace = "/api/v1/namespaces/fanout";
    let mut setup = Connection::open(simulator).await?;
    setup
        .call(
            "POST",
            "/api/v1/namespaces",
            "application/json",
            Bytes::from(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fanout"}})
                    .to_string(),
            ),
        )
        .await?;
    let list = setup
        .call(
            "GET",
            &format!("{namespace}/configmaps"),
            "application/json",
            Bytes::new(),
        )
        .await?;
    let list: serde_json::Value = serde_json::from_slice(&list)?;
    let resource_version = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("0")
        .to_string();

    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..watchers {
        let mut connection = Connection::open(simulator).await?;
        let path = format!("{namespace}/configmaps?watch=1&resourceVersion={resource_version}");
        let response = connection
            .send("GET", &path, "application/json", Bytes::new())
            .await?;
        readers.spawn(async move {
            let _keep_alive = connection;
            let mut body = response.into_body();
            let mut lines = 0usize;
            while lines < events {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Some(data) = frame.data_ref() {
                            lines += data.iter().filter(|byte| **byte == b'\n').count();
                        }
                    }
                    _ => break,
                }
            }
            (lines, Instant::now())
        });
    }
    let started = Instant::now();
    for index in 0..events {
        let path = format!("{namespace}/configmaps/bench-{index}?fieldManager=bench");
        setup.call("PATCH", &path, APPLY, config_map(index)).await?;
    }
    let written = started.elapsed().as_secs_f64();
    let mut last = started;
    while let Some(result) = readers.join_next().await {
        let (lines, finished) = result.context("watch task")?;
        anyhow::ensure!(
            lines >= events,
            "a watcher received {lines} of {events} events"
        );
        last = last.max(finished);
    }
    Ok((written, (last - started).as_secs_f64()))
}

fn print_table(rows: &[Row], transport: &str) {
    println!(
        "fleet-sim bench ({transport}, {} cores)",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!(
        "{:<52} {:>10} {:>10} {:>14}",
        "benchmark", "count", "seconds", "rate"
    );
    for row in rows {
        let rate = if row.seconds > 0.0 {
            row.operations as f64 / row.seconds
        } else {
            0.0
        };
        println!(
            "{:<52} {:>10} {:>10.3} {:>9.0} {}",
            row.benchmark, row.operations, row.seconds, rate, row.unit
        );
    }
}

/// Runs the benchmarks and prints the results.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let config = SimConfig {
        name: "fleet-sim-bench".to_string(),
        tls: args.tls,
        rollout_delay: Duration::from_millis(100),
        watch_window: (args.events * 2).max(10_000),
        bookmark_interval: Duration::from_secs(3600),
        ..SimConfig::default()
    };
    let simulator = Simulator::start(config)
        .await
        .context("starting the simulator")?;
    let mut rows = Vec::new();
    let config_maps = "/api/v1/namespaces/default/configmaps";
    let seconds = apply_all(
        &simulator,
        args.clients,
        args.objects,
        config_maps,
        config_map,
    )
    .await?;
    rows.push(Row {
        benchmark: format!(
            "server-side apply, create ConfigMap ({} clients)",
            args.clients
        ),
        operations: args.objects,
        seconds,
        unit: "objects/s",
    });
    let seconds = apply_all(
        &simulator,
        args.clients,
        args.objects,
        config_maps,
        config_map,
    )
    .await?;
    rows.push(Row {
        benchmark: "server-side apply, unchanged re-apply".to_string(),
        operations: args.objects,
        seconds,
        unit: "objects/s",
    });
    let (written, delivered) = watch_fan_out(&simulator, args.watchers, args.events).await?;
    rows.push(Row {
        benchmark: format!("watch fan-out: writes while {} watch", args.watchers),
        operations: args.events,
        seconds: written,
        unit: "writes/s",
    });
    rows.push(Row {
        benchmark: format!(
            "watch fan-out: events delivered ({} x {})",
            args.watchers, args.events
        ),
        operations: args.watchers * args.events,
        seconds: delivered,
        unit: "events/s",
    });
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    let seconds = apply_all(
        &simulator,
        args.clients,
        args.objects,
        deployments,
        deployment,
    )
    .await?;
    rows.push(Row {
        benchmark: "server-side apply, create Deployment (+RS, 2 pods)".to_string(),
        operations: args.objects,
        seconds,
        unit: "objects/s",
    });
    simulator.shutdown().await;
    print_table(&rows, if args.tls { "HTTPS" } else { "plain HTTP" });
    Ok(())
}
