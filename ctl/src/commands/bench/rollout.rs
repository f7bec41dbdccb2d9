//! `fleetctl bench rollout`: a generated fleet in a Git repository, a hub
//! process, N simulated agents; then a commit that changes every cluster,
//! the webhook, and the whole wave rollout timed — from the agents' side
//! (when each held the new state) and from the hub's (its rollout record,
//! Raft commit index, and `/proc` figures).
//!
//! With `--kill-percent`, that share of the agents — taken from the waves
//! after the first — is killed as the commit's webhook is sent, so the
//! rollout releases them while they are gone, and restarted when it has
//! ended: deadlines and the failure budget at work, and the agents coming
//! back.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use fleet_hub::clock::now_ms;
use fleet_proto::RolloutView;
use fleet_proto::admin_service_client::AdminServiceClient;
use fleet_proto::{ListClustersRequest, ListRevisionsRequest, RolloutStatusRequest};
use tonic::transport::Channel;

use super::bench_hub::{BenchHub, hub_binary};
use super::gen_fleet;
use super::rollout_figures::{Percentiles, RolloutFigures, WaveFigure, machine};
use super::simulated_agent::Behaviour;
use super::swarm::Swarm;
use crate::cli::{BenchRolloutArgs, FleetSizeArgs};
use crate::error::CliError;
use crate::git_cli::git;
use crate::output::{OutputFormat, print_structured};

/// How often the rollout record is read while waiting.
const POLL: Duration = Duration::from_millis(250);

pub async fn run(args: &BenchRolloutArgs) -> Result<(), CliError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let figures = measure(args).await.map_err(CliError::Failure)?;
    if args.output == OutputFormat::Table {
        print!("{}", figures.table());
    } else {
        print_structured(&figures, args.output)?;
    }
    Ok(())
}

async fn measure(args: &BenchRolloutArgs) -> anyhow::Result<RolloutFigures> {
    let root = tempfile::Builder::new().prefix("fleet-bench-").tempdir()?;
    let work = root.path().join("fleet");
    let remote = root.path().join("fleet.git");
    prepare_repository(&work, &remote, args)?;
    let later_waves = clusters_after_the_first_wave(&work)?;
    progress(format_args!(
        "{} clusters × {} apps generated",
        args.clusters, args.apps
    ));

    let started = Instant::now();
    let hub = BenchHub::start(
        root.path(),
        &remote,
        &hub_binary(args.hub_binary.as_deref()),
    )
    .await?;
    let hub_ready_ms = elapsed_ms(started);
    let hub_log = hub.log.clone();
    let mut admin = hub.admin().await?;
    let first_revision = latest_revision(&mut admin).await?;
    let clusters: Vec<String> = list_clusters(&mut admin)
        .await?
        .into_iter()
        .map(|cluster| cluster.name)
        .collect();
    if clusters.len() != args.clusters {
        bail!(
            "the hub knows {} clusters, expected {}",
            clusters.len(),
            args.clusters
        );
    }
    progress(format_args!(
        "hub ready in {hub_ready_ms} ms (pid {})",
        hub.pid()
    ));

    let started = Instant::now();
    let behaviour = Behaviour {
        apply_delay: args.swarm.apply_delay,
    };
    let mut swarm = Swarm::enroll(
        &admin,
        &hub.access(),
        &clusters,
        args.swarm.enroll_concurrency,
        behaviour,
    )
    .await?;
    let enroll_ms = elapsed_ms(started);
    progress(format_args!(
        "{} agents enrolled in {enroll_ms} ms",
        clusters.len()
    ));

    let started = Instant::now();
    swarm.start_all();
    wait_until(
        "every agent holds the first revision",
        Duration::from_secs(600),
        || {
            let held = swarm.receipts().count(&first_revision);
            async move { held == args.clusters }
        },
    )
    .await?;
    let connect_ms = elapsed_ms(started);
    wait_all_converged(&mut admin, Duration::from_secs(600)).await?;
    progress(format_args!(
        "sessions open, every cluster converged ({connect_ms} ms)"
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = hub.reading()?;

    // The change: a new image tag in every app, so every cluster changes.
    for entry in std::fs::read_dir(work.join("apps"))? {
        let manifests = entry?.path().join("base/manifests.yaml");
        let text = std::fs::read_to_string(&manifests)?;
        std::fs::write(&manifests, text.replace(":1.0.", ":1.1."))?;
    }
    git(
        &work,
        &[
            "commit",
            "--quiet",
            "--all",
            "--message",
            "Bump every app to 1.1",
        ],
    )?;
    git(&work, &["push", "--quiet", "origin", "main"])?;
    let new_revision = git(&work, &["rev-parse", "HEAD"])?;

    let before = hub.reading()?;
    let index_before = hub.commit_index().await?;
    let webhook_at = now_ms();
    hub.webhook().await?;
    progress(format_args!(
        "committed {}, webhook sent",
        &new_revision[..12]
    ));

    // Killed now, while the hub renders the commit: the rollout starts
    // with them gone, and releases them in a later wave (deterministic,
    // however fast the waves run).
    let killed = victims(&later_waves, clusters.len(), args.kill_percent);
    if !killed.is_empty() {
        swarm.kill(&killed);
        progress(format_args!(
            "killed {} agents of the later waves mid-rollout",
            killed.len()
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(1800);
    let view = loop {
        if Instant::now() > deadline {
            bail!("the rollout of {new_revision} did not finish within 30 minutes");
        }
        if let Some(view) = rollout_view(&mut admin).await?
            && view.revision == new_revision
            && view.finished_at_ms.is_some()
        {
            break view;
        }
        if let Some(errors) = render_errors(&mut admin, &new_revision).await? {
            bail!(
                "the hub found the benchmark's commit {new_revision} invalid, so nothing rolls out:\n{}",
                errors.join("\n")
            );
        }
        tokio::time::sleep(POLL).await;
    };
    let after = hub.reading()?;
    let index_after = hub.commit_index().await?;
    let finished_at = view.finished_at_ms.unwrap_or_else(now_ms);
    progress(format_args!(
        "rollout {} after {} ms",
        view.state,
        finished_at.saturating_sub(webhook_at)
    ));

    let recovered_ms = if killed.is_empty() {
        None
    } else {
        let restarted = Instant::now();
        swarm.start(&killed);
        wait_all_converged(&mut admin, Duration::from_secs(600)).await?;
        progress(format_args!(
            "killed agents restarted; every cluster converged"
        ));
        Some(elapsed_ms(restarted))
    };

    let holding = swarm.receipts().holding(&new_revision);
    let rollout_seconds = finished_at.saturating_sub(webhook_at) as f64 / 1000.0;
    let raft_entries = index_after.saturating_sub(index_before);
    let figures = RolloutFigures {
        machine: machine(),
        clusters: args.clusters,
        apps: args.apps,
        hub_ready_ms,
        enroll_ms,
        connect_ms,
        idle_rss_mib: mib(idle.rss_bytes),
        first_held_ms: holding
            .values()
            .min()
            .map_or(0, |at| at.saturating_sub(webhook_at)),
        last_held_ms: (holding.len() == args.clusters).then(|| {
            holding
                .values()
                .max()
                .map_or(0, |at| at.saturating_sub(webhook_at))
        }),
        held: holding.len(),
        first_wave_held: first_wave_held(&view, &holding, webhook_at),
        release_to_held: release_to_held(&view, &holding, &killed),
        waves: view
            .waves
            .iter()
            .map(|wave| WaveFigure {
                name: wave.name.clone(),
                clusters: wave.total as usize,
                duration_ms: wave
                    .started_at_ms
                    .zip(wave.finished_at_ms)
                    .map(|(start, end)| end.saturating_sub(start)),
                state: wave.state.clone(),
            })
            .collect(),
        rollout_ms: finished_at.saturating_sub(webhook_at),
        outcome: view.state.clone(),
        reason: view.reason.clone(),
        failed_clusters: view.waves.iter().map(|wave| wave.failures.len()).sum(),
        raft_entries,
        raft_writes_per_second: raft_entries as f64 / rollout_seconds.max(0.001),
        peak_rss_mib: mib(after.peak_rss_bytes.max(hub.reading()?.peak_rss_bytes)),
        rollout_cpu_seconds: after.cpu_seconds - before.cpu_seconds,
        killed: killed.len(),
        recovered_ms,
    };
    swarm.kill_all();
    drop(hub);
    if let Some(kept) = &args.hub_log {
        std::fs::copy(&hub_log, kept)
            .with_context(|| format!("keeping the hub's log in {}", kept.display()))?;
    }
    Ok(figures)
}

/// Generates the fleet, sets the rollout knobs, and makes `remote` its bare origin.
fn prepare_repository(work: &Path, remote: &Path, args: &BenchRolloutArgs) -> anyhow::Result<()> {
    gen_fleet::generate(
        work,
        &FleetSizeArgs {
            clusters: args.clusters,
            apps: args.apps,
            helm_apps: 0,
        },
    )?;
    let fleet = work.join("fleet.yaml");
    let text = std::fs::read_to_string(&fleet)?
        .replace(
            "maxFailures: 0",
            &format!("maxFailures: {}", args.max_failures),
        )
        .replace(
            "progressDeadline: 10m",
            &format!("progressDeadline: {}ms", args.progress_deadline.as_millis()),
        );
    std::fs::write(&fleet, text)?;
    git(
        work,
        &[
            "commit",
            "--quiet",
            "--all",
            "--message",
            "Benchmark rollout settings",
        ],
    )?;
    let (work_text, remote_text) = (path_text(work)?, path_text(remote)?);
    git(
        work.parent().context("the work tree has a parent")?,
        &["clone", "--quiet", "--bare", work_text, remote_text],
    )?;
    git(work, &["remote", "add", "origin", remote_text])?;
    Ok(())
}

/// `percent` of all `total` clusters, spread evenly over `candidates`.
fn victims(candidates: &[String], total: usize, percent: u32) -> Vec<String> {
    let wanted = total * percent as usize / 100;
    if candidates.is_empty() || wanted == 0 {
        return Vec::new();
    }
    let step = (candidates.len() / wanted).max(1);
    candidates
        .iter()
        .step_by(step)
        .take(wanted)
        .cloned()
        .collect()
}

/// The clusters of every wave but the first, as the fleet at `work` assigns them.
fn clusters_after_the_first_wave(work: &Path) -> anyhow::Result<Vec<String>> {
    let snapshot = fleet_core::Snapshot::from_directory(work)
        .map_err(|error| anyhow::anyhow!("reading the generated fleet: {error}"))?;
    let repository = fleet_core::FleetRepository::load(std::sync::Arc::new(snapshot))
        .map_err(|problems| anyhow::anyhow!("the generated fleet does not load: {problems}"))?;
    let plan = fleet_core::rollout::WavePlan::assign(&repository.fleet.spec, &repository.clusters);
    Ok(plan
        .waves
        .into_iter()
        .skip(1)
        .flat_map(|wave| wave.clusters)
        .collect())
}

fn first_wave_held(
    view: &RolloutView,
    holding: &HashMap<String, u64>,
    webhook_at: u64,
) -> Percentiles {
    let samples = view
        .waves
        .first()
        .map(|wave| {
            wave.clusters
                .iter()
                .filter_map(|cluster| holding.get(&cluster.name))
                .map(|at| at.saturating_sub(webhook_at))
                .collect()
        })
        .unwrap_or_default();
    Percentiles::of(samples)
}

fn release_to_held(
    view: &RolloutView,
    holding: &HashMap<String, u64>,
    killed: &[String],
) -> Percentiles {
    Percentiles::of(
        view.waves
            .iter()
            .flat_map(|wave| wave.clusters.iter())
            .filter(|cluster| !killed.contains(&cluster.name))
            .filter_map(|cluster| {
                let released = cluster.released_at_ms?;
                let held = holding.get(&cluster.name)?;
                Some(held.saturating_sub(released))
            })
            .collect(),
    )
}

/// The render errors of `revision`, once the hub recorded it as invalid.
async fn render_errors(
    admin: &mut AdminServiceClient<Channel>,
    revision: &str,
) -> anyhow::Result<Option<Vec<String>>> {
    Ok(revisions(admin)
        .await?
        .into_iter()
        .find(|recorded| recorded.revision == revision && !recorded.valid)
        .map(|recorded| recorded.errors))
}

/// The revisions the hub recorded.
pub(super) async fn revisions(
    admin: &mut AdminServiceClient<Channel>,
) -> anyhow::Result<Vec<fleet_proto::RevisionSummary>> {
    Ok(admin
        .list_revisions(ListRevisionsRequest {})
        .await
        .context("listing revisions")?
        .into_inner()
        .revisions)
}

async fn latest_revision(admin: &mut AdminServiceClient<Channel>) -> anyhow::Result<String> {
    let revisions = revisions(admin).await?;
    let latest = revisions
        .iter()
        .filter(|revision| revision.valid)
        .max_by_key(|revision| revision.observed_at_ms)
        .context("the hub has recorded no valid revision")?;
    Ok(latest.revision.clone())
}

async fn list_clusters(
    admin: &mut AdminServiceClient<Channel>,
) -> anyhow::Result<Vec<fleet_proto::ClusterSummary>> {
    Ok(admin
        .list_clusters(ListClustersRequest {})
        .await
        .context("listing clusters")?
        .into_inner()
        .clusters)
}

async fn rollout_view(
    admin: &mut AdminServiceClient<Channel>,
) -> anyhow::Result<Option<RolloutView>> {
    Ok(admin
        .rollout_status(RolloutStatusRequest {})
        .await
        .context("reading the rollout status")?
        .into_inner()
        .rollout)
}

/// Waits until every cluster reports its target digest applied and Healthy.
async fn wait_all_converged(
    admin: &mut AdminServiceClient<Channel>,
    within: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let clusters = list_clusters(admin).await?;
        let waiting = clusters
            .iter()
            .filter(|cluster| {
                cluster.target_digest.is_empty()
                    || cluster.applied_digest != cluster.target_digest
                    || cluster.health != fleet_proto::Health::Healthy as i32
            })
            .count();
        if waiting == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "{waiting} of {} clusters did not converge within {within:?}",
                clusters.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub(super) async fn wait_until<F, Fut>(
    what: &str,
    within: Duration,
    mut done: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !done().await {
        if Instant::now() > deadline {
            bail!("timed out waiting until {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

pub(super) fn progress(message: std::fmt::Arguments<'_>) {
    eprintln!("bench: {message}");
}

pub(super) fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub(super) fn path_text(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .context("the temporary directory's path is not UTF-8")
}
