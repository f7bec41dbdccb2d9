//! The story the demo tells, step by step, checking each claim on the
//! simulated clusters with kubectl before it says it.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::bail;
use fleet_proto::RolloutView;
use fleet_proto::{
    ClusterSummary, ListClustersRequest, RolloutActionRequest, RolloutStatusRequest,
};

use super::kubectl::{deployment_image, kubectl};
use super::narrator::Narrator;
use super::world::{Pace, World};
use crate::cli::DemoArgs;

const GOOD_IMAGE: &str = "ghcr.io/example/web:1.5.0";
const FIRST_IMAGE: &str = "ghcr.io/example/web:1.4.2";
const FAILING_IMAGE: &str = "ghcr.io/example/web:1.6.0-fail";

/// Tells the whole story; stops everything at the end (or on failure).
pub async fn tell(args: &DemoArgs) -> anyhow::Result<()> {
    let pace = if args.fast {
        Pace {
            bake: "2s",
            rollout_delay: Duration::from_millis(300),
            progress_deadline: Duration::from_secs(2),
        }
    } else {
        Pace {
            bake: "10s",
            rollout_delay: Duration::from_secs(2),
            progress_deadline: Duration::from_secs(5),
        }
    };
    let mut narrator = Narrator::new();
    narrator.step("Starting a hub, one simulated cluster (fleet-sim) per cluster of fleet-examples, and a real agent in each");
    let helm = super::helm_setup::find_or_set_up(args.helm.as_deref())?;
    let world = World::start(pace, helm).await?;
    narrator.say(&format!(
        "hub on loopback; {} clusters: {}",
        world.clusters.len(),
        world
            .clusters
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let result = story(&world, &mut narrator, args).await;
    if result.is_ok() && args.keep_running {
        explore(&world);
        let _ = tokio::signal::ctrl_c().await;
    }
    narrator.step("Stopping everything");
    world.stop().await;
    narrator.say("hub, agents and simulators stopped; temporary files removed");
    result
}

async fn story(world: &World, narrator: &mut Narrator, args: &DemoArgs) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(if args.fast { 120 } else { 300 });
    narrator.step("The fleet converges to the first commit");
    let started = Instant::now();
    eventually("every cluster Synced and Healthy", timeout, || async {
        let clusters = clusters(world).await?;
        Ok(clusters.iter().all(synced_and_healthy))
    })
    .await?;
    narrator.say(&format!(
        "{} of {} clusters Synced and Healthy after {:.1}s",
        world.clusters.len(),
        world.clusters.len(),
        started.elapsed().as_secs_f64()
    ));
    let prod = &world.clusters["prod-us-1"].kubeconfig;
    let deployments = kubectl(prod, &["get", "deployments", "-A", "--no-headers"])?;
    narrator.say(&format!(
        "$ kubectl get deployments -A   (prod-us-1: {} deployments)",
        deployments.lines().count()
    ));
    for line in deployments.lines() {
        narrator.say(&format!(
            "    {}",
            line.split_whitespace().collect::<Vec<_>>().join("  ")
        ));
    }

    narrator
        .step("A commit changes the web image 1.4.2 -> 1.5.0; the hub rolls it out wave by wave");
    world.edit("apps/web/base/deployment.yaml", "web:1.4.2", "web:1.5.0")?;
    let good = world.commit("web: 1.5.0")?;
    narrator.say(&format!(
        "git push {}; POST /webhook/git -> {}",
        &good[..12],
        world.webhook().await?
    ));
    follow_rollout(world, narrator, &good, timeout, |view| {
        view.waves
            .iter()
            .any(|wave| wave.name == "production" && wave.state == "WaitingApproval")
    })
    .await?;
    let still = deployment_image(prod, "web", "web").unwrap_or_default();
    if still != FIRST_IMAGE {
        bail!("prod-us-1 should still run {FIRST_IMAGE} before promotion, runs {still}");
    }
    narrator.say(&format!(
        "production still serves {still} (checked with kubectl on prod-us-1)"
    ));
    narrator.say("$ fleetctl rollout promote --wave production");
    world
        .admin()
        .await?
        .rollout_action(RolloutActionRequest {
            action: "promote".into(),
            wave: "production".into(),
            all: false,
            ignore_windows: false,
        })
        .await?;
    let view = follow_rollout(world, narrator, &good, timeout, |view| {
        view.state != "Progressing"
    })
    .await?;
    if view.state != "Succeeded" {
        bail!(
            "the rollout of {} ended {}: {}",
            &good[..12],
            view.state,
            view.reason
        );
    }
    for (name, cluster) in &world.clusters {
        let image = deployment_image(&cluster.kubeconfig, "web", "web").unwrap_or_default();
        if image != GOOD_IMAGE {
            bail!("{name} runs {image}, not {GOOD_IMAGE}");
        }
    }
    narrator.say(&format!(
        "rollout Succeeded: every cluster runs {GOOD_IMAGE} (checked with kubectl)"
    ));

    narrator.step("Someone edits a managed field by hand; the agent reverts it");
    let staging = &world.clusters["staging-us-1"].kubeconfig;
    narrator.say("$ kubectl -n web set image deployment/web web=ghcr.io/example/web:hotfix   (on staging-us-1)");
    kubectl(
        staging,
        &[
            "-n",
            "web",
            "set",
            "image",
            "deployment/web",
            "web=ghcr.io/example/web:hotfix",
        ],
    )?;
    let edited = Instant::now();
    eventually("the manual edit is reverted", timeout, || async {
        Ok(deployment_image(staging, "web", "web").as_deref() == Some(GOOD_IMAGE))
    })
    .await?;
    narrator.say(&format!(
        "reverted to {GOOD_IMAGE} {:.1}s after the edit (self-heal)",
        edited.elapsed().as_secs_f64()
    ));

    narrator.step("A commit with a failing image: it stops at the canary wave and is rolled back");
    world.edit(
        "apps/web/base/deployment.yaml",
        "web:1.5.0",
        "web:1.6.0-fail",
    )?;
    let bad = world.commit("web: 1.6.0-fail")?;
    narrator.say(&format!(
        "git push {}; POST /webhook/git -> {}",
        &bad[..12],
        world.webhook().await?
    ));
    let view = follow_rollout(world, narrator, &bad, timeout, |view| {
        view.state != "Progressing"
    })
    .await?;
    if view.state != "RolledBack" {
        bail!(
            "the failing rollout ended {} instead of RolledBack: {}",
            view.state,
            view.reason
        );
    }
    narrator.say(&format!("rollout RolledBack: {}", view.reason));
    let canaries: Vec<String> = view
        .waves
        .iter()
        .filter(|wave| wave.name == "canary")
        .flat_map(|wave| wave.clusters.iter().map(|cluster| cluster.name.clone()))
        .collect();
    for wave in view.waves.iter().filter(|wave| wave.name != "canary") {
        if wave.clusters.iter().any(|cluster| cluster.released) {
            bail!("wave {} saw the failing revision", wave.name);
        }
    }
    eventually(
        "the canaries run the previous image again",
        timeout,
        || async {
            Ok(canaries.iter().all(|name| {
                deployment_image(&world.clusters[name].kubeconfig, "web", "web").as_deref()
                    == Some(GOOD_IMAGE)
            }))
        },
    )
    .await?;
    let mut production = BTreeMap::new();
    for name in ["prod-eu-2", "prod-us-1", "prod-us-2"] {
        production.insert(
            name,
            deployment_image(&world.clusters[name].kubeconfig, "web", "web").unwrap_or_default(),
        );
    }
    if production.values().any(|image| image != GOOD_IMAGE) {
        bail!("production moved: {production:?}");
    }
    narrator.say(&format!(
        "canaries {} are back on {GOOD_IMAGE}; production never saw {FAILING_IMAGE} (checked with kubectl)",
        canaries.join(", ")
    ));

    narrator.step("Summary");
    narrator.say(&format!(
        "converged {} clusters, rolled out 1.5.0 in 4 waves with a manual gate, reverted a manual edit, \
         stopped and rolled back a failing image at the canary — in {:.0}s",
        world.clusters.len(),
        narrator.elapsed()
    ));
    Ok(())
}

fn synced_and_healthy(cluster: &ClusterSummary) -> bool {
    !cluster.target_digest.is_empty()
        && cluster.target_digest == cluster.applied_digest
        && cluster.health == fleet_proto::Health::Healthy as i32
}

async fn clusters(world: &World) -> anyhow::Result<Vec<ClusterSummary>> {
    Ok(world
        .admin()
        .await?
        .list_clusters(ListClustersRequest {})
        .await?
        .into_inner()
        .clusters)
}

async fn rollout(world: &World) -> anyhow::Result<Option<RolloutView>> {
    Ok(world
        .admin()
        .await?
        .rollout_status(RolloutStatusRequest {})
        .await?
        .into_inner()
        .rollout)
}

/// Prints wave changes of the rollout of `revision` until `done` says so.
async fn follow_rollout(
    world: &World,
    narrator: &Narrator,
    revision: &str,
    timeout: Duration,
    done: impl Fn(&RolloutView) -> bool,
) -> anyhow::Result<RolloutView> {
    let started = Instant::now();
    let mut shown: BTreeMap<String, String> = BTreeMap::new();
    loop {
        if let Some(view) = rollout(world).await?
            && view.revision == revision
        {
            for wave in &view.waves {
                let mut line =
                    format!("{} {}/{} converged", wave.state, wave.converged, wave.total);
                if let Some(failure) = wave.failures.first() {
                    line.push_str(&format!(" — failed: {failure}"));
                }
                if shown.get(&wave.name) != Some(&line) {
                    narrator.say(&format!("wave {:<10} {line}", wave.name));
                    shown.insert(wave.name.clone(), line);
                }
            }
            if done(&view) {
                return Ok(view);
            }
        }
        if started.elapsed() > timeout {
            bail!(
                "the rollout of {} did not get there within {timeout:?}",
                &revision[..12.min(revision.len())]
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn eventually<F, Fut>(what: &str, timeout: Duration, check: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let started = Instant::now();
    loop {
        if check().await.unwrap_or(false) {
            return Ok(());
        }
        if started.elapsed() > timeout {
            bail!("timed out after {timeout:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn explore(world: &World) {
    println!();
    println!("The demo keeps running. In another terminal:");
    println!("  export FLEETCONFIG={}", world.fleetconfig.display());
    println!("  fleetctl status");
    println!("  fleetctl rollout history");
    if let Some(cluster) = world.clusters.values().next() {
        println!(
            "  kubectl --kubeconfig {} get deployments -A",
            cluster.kubeconfig.display()
        );
    }
    println!(
        "  (the fleet repository is a Git clone at {})",
        world.work.display()
    );
    println!("Press Ctrl-C to stop.");
}
