//! `fleetctl bench retention`: does the replicated state stop growing?
//!
//! A generated fleet in a Git repository and a hub process (no agents); then
//! N commits, each pushed and announced through the webhook and waited for
//! until the hub has recorded it. At each checkpoint the hub's own figures
//! are read: the JSON size of its fleet state and the size of its snapshot
//! (`/metrics`, from the last snapshot it built) and the size of its redb
//! file on disk. With retention on, all three stay flat once the
//! retention limits are reached.
//!
//! The commits change a notes file, not the clusters' desired state: every
//! one is still a revision with a digest per cluster and a rollout with an
//! entry per cluster (what the state keeps), and its rollout ends at once
//! because no cluster has anything to apply — so no agents are needed.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;

use super::bench_hub::{BenchHub, hub_binary};
use super::gen_fleet;
use super::rollout::{elapsed_ms, path_text, progress, revisions, wait_until};
use crate::cli::{BenchRetentionArgs, FleetSizeArgs};
use crate::error::CliError;
use crate::git_cli::git;
use crate::output::{OutputFormat, print_structured};

/// The figures of one run.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionFigures {
    /// Clusters in the generated fleet.
    pub clusters: usize,
    /// Commits pushed.
    pub commits: usize,
    /// `retention.revisions` the hub ran with.
    pub retained_revisions: usize,
    /// `retention.rollouts` the hub ran with.
    pub retained_rollouts: usize,
    /// `raft.snapshotEvery` the hub ran with.
    pub snapshot_every: u64,
    /// The figures after each checkpoint.
    pub checkpoints: Vec<Checkpoint>,
}

/// The hub's sizes after a number of commits.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// Commits recorded so far.
    pub commits: usize,
    /// Revisions the hub lists.
    pub revisions: usize,
    /// JSON size of the fleet state at the hub's last snapshot.
    pub state_bytes: u64,
    /// Size of that snapshot.
    pub snapshot_bytes: u64,
    /// Size of the redb file (Raft log and snapshot).
    pub redb_bytes: u64,
    /// Raft commit index.
    pub raft_entries: u64,
    /// Time since the first commit was pushed.
    pub elapsed_ms: u64,
}

pub async fn run(args: &BenchRetentionArgs) -> Result<(), CliError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let figures = measure(args).await.map_err(CliError::Failure)?;
    if args.output == OutputFormat::Table {
        print!("{}", figures.table());
    } else {
        print_structured(&figures, args.output)?;
    }
    Ok(())
}

async fn measure(args: &BenchRetentionArgs) -> anyhow::Result<RetentionFigures> {
    let mut checkpoints_wanted = args.checkpoints.clone();
    checkpoints_wanted.sort_unstable();
    checkpoints_wanted.dedup();
    if checkpoints_wanted.is_empty() {
        checkpoints_wanted.push(args.commits);
    }
    if checkpoints_wanted
        .last()
        .is_some_and(|last| *last > args.commits)
    {
        bail!("a checkpoint is past --commits {}", args.commits);
    }
    let root = tempfile::Builder::new()
        .prefix("fleet-bench-retention-")
        .tempdir()?;
    let work = root.path().join("fleet");
    let remote = root.path().join("fleet.git");
    gen_fleet::generate(
        &work,
        &FleetSizeArgs {
            clusters: args.clusters,
            apps: args.apps,
            helm_apps: 0,
        },
    )?;
    let (work_text, remote_text) = (path_text(&work)?, path_text(&remote)?);
    git(
        root.path(),
        &["clone", "--quiet", "--bare", work_text, remote_text],
    )?;
    git(&work, &["remote", "add", "origin", remote_text])?;
    progress(format_args!(
        "{} clusters × {} apps generated",
        args.clusters, args.apps
    ));

    let hub = BenchHub::start_configured(
        root.path(),
        &remote,
        &hub_binary(args.hub_binary.as_deref()),
        |config| {
            config.retention.revisions = args.retain_revisions;
            config.retention.rollouts = args.retain_rollouts;
            config.raft.snapshot_every = args.snapshot_every;
        },
    )
    .await?;
    let redb = hub.data_dir.join("raft").join("raft.redb");
    let mut admin = hub.admin().await?;
    progress(format_args!("hub ready (pid {})", hub.pid()));

    let started = Instant::now();
    let mut checkpoints = Vec::new();
    for commit in 1..=args.commits {
        std::fs::write(work.join("NOTES.md"), format!("commit {commit}\n"))?;
        git(&work, &["add", "NOTES.md"])?;
        git(
            &work,
            &["commit", "--quiet", "--message", &format!("Notes {commit}")],
        )?;
        git(&work, &["push", "--quiet", "origin", "main"])?;
        let head = git(&work, &["rev-parse", "HEAD"])?.trim().to_owned();
        hub.webhook().await?;
        wait_until(
            &format!("the hub records commit {commit} ({head})"),
            Duration::from_secs(300),
            || {
                let mut admin = admin.clone();
                let head = head.clone();
                async move {
                    revisions(&mut admin)
                        .await
                        .is_ok_and(|listed| listed.iter().any(|listed| listed.revision == head))
                }
            },
        )
        .await?;
        if checkpoints_wanted.contains(&commit) {
            // The webhook's sync records the commit and then trims, and the
            // listing above can land in between. A refresh takes the sync
            // lock, so once it answers that trim is applied (and its own
            // sync, of a known tip, only trims).
            admin
                .refresh(fleet_proto::RefreshRequest {})
                .await
                .context("refreshing before the checkpoint")?;
            let checkpoint = Checkpoint {
                commits: commit,
                revisions: revisions(&mut admin).await?.len(),
                state_bytes: hub.metric("fleet_hub_state_bytes").await?,
                snapshot_bytes: hub.metric("fleet_hub_snapshot_bytes").await?,
                redb_bytes: std::fs::metadata(&redb)
                    .with_context(|| format!("reading the size of {}", redb.display()))?
                    .len(),
                raft_entries: hub.commit_index().await?,
                elapsed_ms: elapsed_ms(started),
            };
            progress(format_args!("{checkpoint:?}"));
            checkpoints.push(checkpoint);
        }
    }
    Ok(RetentionFigures {
        clusters: args.clusters,
        commits: args.commits,
        retained_revisions: args.retain_revisions,
        retained_rollouts: args.retain_rollouts,
        snapshot_every: args.snapshot_every,
        checkpoints,
    })
}

impl RetentionFigures {
    /// The figures as a table (sizes in KiB).
    pub fn table(&self) -> String {
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::NOTHING);
        table.set_header([
            "COMMITS",
            "REVISIONS",
            "STATE (KIB)",
            "SNAPSHOT (KIB)",
            "REDB FILE (KIB)",
            "RAFT ENTRIES",
        ]);
        for checkpoint in &self.checkpoints {
            table.add_row([
                checkpoint.commits.to_string(),
                checkpoint.revisions.to_string(),
                kib(checkpoint.state_bytes),
                kib(checkpoint.snapshot_bytes),
                kib(checkpoint.redb_bytes),
                checkpoint.raft_entries.to_string(),
            ]);
        }
        format!(
            "{} clusters, {} commits, retention: {} revisions, {} rollouts; snapshot every {} entries\n{table}\n",
            self.clusters,
            self.commits,
            self.retained_revisions,
            self.retained_rollouts,
            self.snapshot_every
        )
    }
}

fn kib(bytes: u64) -> String {
    (bytes / 1024).to_string()
}
