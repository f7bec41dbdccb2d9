//! Command-line types only (clap derive); the commands live in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::logging::LogFormat;
use crate::output::OutputFormat;

/// fleet: GitOps for fleets of Kubernetes clusters.
#[derive(Debug, Parser)]
#[command(name = "fleetctl", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Log lines on stderr (filter: $FLEETCTL_LOG, default warn): text or json.
    #[arg(long, value_enum, global = true, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print one cluster's rendered manifests (YAML stream; digest on stderr).
    Render(RenderArgs),
    /// Render every app for every cluster and report every error with file and line.
    Validate(ValidateArgs),
    /// Preview what a new revision changes, per wave, cluster and object.
    Plan(PlanArgs),
    /// Benchmarks and generators for sizing the fleet.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Bootstrap tokens for enrolling agents.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Every cluster: connected, target and applied revision, health, drift.
    Status(StatusArgs),
    /// Clusters the hub knows, with labels and enrollment.
    Clusters(HubReadArgs),
    /// Revisions the hub observed and their render verdicts.
    Revisions(HubReadArgs),
    /// Make the hub fetch the fleet repository now.
    Refresh(HubArgs),
    /// Operator actions recorded by the hub: who, when, what.
    Audit(AuditArgs),
    /// Watch and steer rollouts.
    #[command(subcommand)]
    Rollout(RolloutCommand),
    /// The whole system on this machine: hub, simulated clusters, agents, a wave rollout.
    Demo(DemoArgs),
    /// Agents in clusters.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// The hub's own nodes: join tokens, members, add/remove, leader transfer.
    #[command(subcommand)]
    Hub(HubCommand),
    /// Operators: create with a role, list, revoke, renew your own certificate.
    #[command(subcommand)]
    User(crate::user_cli::UserCommand),
    /// Clusters: revoke one.
    #[command(subcommand)]
    Cluster(crate::user_cli::ClusterCommand),
    /// Where the hub sends signed notifications of rollout events.
    #[command(subcommand)]
    Notifications(crate::commands::notifications::args::NotificationsCommand),
    /// The fleet in a browser, served on this machine with your own identity.
    Dashboard(crate::commands::dashboard::args::DashboardArgs),
}

/// `fleetctl cluster hold NAME --reason TEXT`.
#[derive(Debug, Args)]
pub struct ClusterHoldArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The cluster.
    pub cluster: String,
    /// Why (shown in `rollout status` and `status`, and audited).
    #[arg(long)]
    pub reason: String,
}

/// `fleetctl cluster release NAME`.
#[derive(Debug, Args)]
pub struct ClusterReleaseArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The cluster.
    pub cluster: String,
}

/// `fleetctl hub ...`.
#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Mint a single-use join token for a new hub node (`fleet-hub init --join`).
    JoinToken(JoinTokenArgs),
    /// The hub's nodes: role (leader, voter, learner), address, replication.
    Members(HubReadArgs),
    /// Re-admit a removed hub node (it rejoins as a learner, then a voter).
    Add(HubNodeArgs),
    /// Remove a hub node from the Raft group; its certificate is refused from then on.
    Remove(HubNodeArgs),
    /// Hand leadership to another node (for maintenance of the leader).
    StepDown(HubArgs),
}

/// `fleetctl hub join-token`.
#[derive(Debug, Args)]
pub struct JoinTokenArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// Lifetime (default 1h).
    #[arg(long, value_parser = fleet_core::model::FleetDuration::parse)]
    pub ttl: Option<fleet_core::model::FleetDuration>,
}

/// `fleetctl hub add|remove NODE`.
#[derive(Debug, Args)]
pub struct HubNodeArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The hub node's name.
    pub node: String,
}

/// `fleetctl agent ...`.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Mint a token and print (-o yaml) or apply the manifests that run the agent in a cluster.
    Install(AgentInstallArgs),
}

/// `fleetctl agent install`.
#[derive(Debug, Args)]
pub struct AgentInstallArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The cluster (declared in Git) the agent runs in.
    #[arg(long)]
    pub cluster: String,
    /// Hub endpoint(s) the agent dials (default: the hub context's endpoints).
    #[arg(long = "hub", value_delimiter = ',')]
    pub hub_endpoints: Vec<String>,
    /// kubectl context to apply with (fleetctl's own --context picks the hub).
    #[arg(long)]
    pub kube_context: Option<String>,
    /// Kubeconfig file kubectl applies with (default: kubectl's own
    /// `KUBECONFIG` / `~/.kube/config`).
    #[arg(long)]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// After applying, how long to wait for the agent to connect before
    /// failing (`30s`, `5m`).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub wait_timeout: std::time::Duration,
    /// Print the manifests instead of applying them (only yaml).
    #[arg(short, long, value_parser = ["yaml"])]
    pub output: Option<String>,
    /// Agent image.
    #[arg(long)]
    pub image: Option<String>,
    /// Agent namespace.
    #[arg(long)]
    pub namespace: Option<String>,
}

/// `fleetctl demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Short bakes and delays (what CI runs).
    #[arg(long)]
    pub fast: bool,
    /// Keep everything running at the end for exploring with fleetctl and kubectl.
    #[arg(long)]
    pub keep_running: bool,
    /// The Helm binary for the example fleet's Helm app (default:
    /// FLEET_HELM, `helm` on PATH, else a front end the demo sets up).
    #[arg(long)]
    pub helm: Option<PathBuf>,
}

/// `fleetctl rollout ...`.
#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Waves in order: state, clusters converged/total, bake left, failures.
    Status(RolloutStatusArgs),
    /// Approve a manual wave (the current one, a named one, or all).
    Promote(PromoteArgs),
    /// Hold the active rollout.
    Pause(HubArgs),
    /// Continue a paused rollout.
    Resume(HubArgs),
    /// Put every released cluster back on its previous revision.
    Rollback(HubArgs),
    /// Past rollouts and the audit log.
    History(HubReadArgs),
}

/// `fleetctl status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub read: HubReadArgs,
    /// Also list clusters that are not declared in Git and never enrolled
    /// (the table hides them; JSON and YAML always carry every cluster,
    /// with `declared: false`).
    #[arg(long)]
    pub all: bool,
}

/// `fleetctl rollout status`.
#[derive(Debug, Args)]
pub struct RolloutStatusArgs {
    #[command(flatten)]
    pub read: HubReadArgs,
    /// Redraw until the rollout ends.
    #[arg(long, short)]
    pub watch: bool,
}

/// `fleetctl rollout promote`.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The wave to approve (default: the current one).
    #[arg(long, conflicts_with = "all")]
    pub wave: Option<String>,
    /// Approve every remaining wave.
    #[arg(long)]
    pub all: bool,
    /// Release the wave(s) even while their sync windows are closed (audited).
    #[arg(long)]
    pub ignore_windows: bool,
}

/// Which hub to talk to (kubectl-style configuration and contexts).
#[derive(Debug, Clone, Args)]
pub struct HubArgs {
    /// fleetctl configuration file (default: $FLEETCONFIG, else ~/.fleet/config.yaml).
    #[arg(long, env = "FLEETCONFIG", global = true)]
    pub fleetconfig: Option<PathBuf>,
    /// Context (hub) to use instead of the current one.
    #[arg(long, global = true)]
    pub context: Option<String>,
}

/// A read from the hub.
#[derive(Debug, Args)]
pub struct HubReadArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// `fleetctl audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub read: HubReadArgs,
    /// Only entries recorded within this long before now (e.g. `24h`); the
    /// hub keeps entries within its `retention:` limits (hub.yaml).
    #[arg(long, value_parser = fleet_core::model::FleetDuration::parse)]
    pub since: Option<fleet_core::model::FleetDuration>,
}

/// `fleetctl token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint a single-use bootstrap token for a cluster declared in Git.
    Create(TokenCreateArgs),
}

/// `fleetctl token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// The cluster the token enrolls.
    #[arg(long)]
    pub cluster: String,
    /// Lifetime (default: the hub's, 1h).
    #[arg(long, value_parser = fleet_core::model::FleetDuration::parse)]
    pub ttl: Option<fleet_core::model::FleetDuration>,
    /// Output format (table prints the token alone).
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// Where the fleet repository is.
#[derive(Debug, Clone, Args)]
pub struct RepositoryArgs {
    /// The fleet repository: a Git repository or a plain directory.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Largest file read from the repository, in bytes (checked before it is read).
    #[arg(long, default_value_t = fleet_core::source::DEFAULT_MAX_FILE_BYTES)]
    pub max_file_bytes: u64,
    /// Most bytes of files read for one revision.
    #[arg(long, default_value_t = fleet_core::source::DEFAULT_MAX_REVISION_BYTES)]
    pub max_revision_bytes: u64,
    /// Wall-clock limit of one Kustomize build (e.g. 60s, 2m); it is killed after.
    #[arg(long, default_value = "60s", value_parser = fleet_core::model::FleetDuration::parse)]
    pub kustomize_timeout: fleet_core::model::FleetDuration,
    /// The Helm binary for Helm apps (default: FLEET_HELM, else `helm` on PATH).
    #[arg(long, env = fleet_core::render::HELM_ENV)]
    pub helm: Option<PathBuf>,
    /// Wall-clock limit of one `helm template` run (e.g. 60s, 2m); it is killed after.
    #[arg(long, default_value = "60s", value_parser = fleet_core::model::FleetDuration::parse)]
    pub helm_timeout: fleet_core::model::FleetDuration,
    /// `--kube-version` passed to `helm template` (default: Helm's own).
    #[arg(long)]
    pub kube_version: Option<String>,
    /// Where fetched remote charts are cached (default: $XDG_CACHE_HOME/fleet/charts,
    /// else ~/.cache/fleet/charts).
    #[arg(long)]
    pub chart_cache_dir: Option<PathBuf>,
    /// Wall-clock limit of fetching one remote chart (e.g. 60s).
    #[arg(long, default_value = "60s", value_parser = fleet_core::model::FleetDuration::parse)]
    pub chart_fetch_timeout: fleet_core::model::FleetDuration,
    /// Largest remote chart archive, in bytes.
    #[arg(long, default_value_t = fleet_core::render::DEFAULT_MAX_CHART_BYTES)]
    pub max_chart_bytes: u64,
    /// PEM CA certificates trusted for https:// chart repositories and
    /// registries besides the system's roots.
    #[arg(long)]
    pub chart_ca_file: Option<PathBuf>,
}

impl RepositoryArgs {
    /// The limits reading and rendering run under.
    pub fn render_settings(&self) -> fleet_core::render::RenderSettings {
        fleet_core::render::RenderSettings {
            kustomize_timeout: self.kustomize_timeout.0,
            limits: fleet_core::source::ReadLimits {
                max_file_bytes: self.max_file_bytes,
                max_revision_bytes: self.max_revision_bytes,
            },
            helm: self.helm.clone(),
            helm_timeout: self.helm_timeout.0,
            kube_version: self.kube_version.clone(),
            chart_fetch: fleet_core::render::ChartFetchSettings {
                cache_directory: self.chart_cache_dir.clone().or_else(default_chart_cache),
                timeout: self.chart_fetch_timeout.0,
                max_chart_bytes: self.max_chart_bytes,
                ca_file: self.chart_ca_file.clone(),
                ..fleet_core::render::ChartFetchSettings::default()
            },
        }
    }
}

/// fleetctl's chart cache: `$XDG_CACHE_HOME/fleet/charts`, else `~/.cache/fleet/charts`.
fn default_chart_cache() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("fleet/charts"))
}

/// `fleetctl render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub repository: RepositoryArgs,
    /// Git revision to read (branch, tag, commit); default: the directory as it is
    /// (HEAD for a bare repository).
    #[arg(long)]
    pub rev: Option<String>,
    /// The cluster to render.
    #[arg(long)]
    pub cluster: String,
    /// Only this app.
    #[arg(long)]
    pub app: Option<String>,
    /// Output format: yaml (a stream of documents) or json (a v1 List).
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Yaml)]
    pub output: OutputFormat,
    /// Decrypt SOPS-encrypted objects with the identities of this age key
    /// file, for local debugging (without it they are shown as ciphertext,
    /// as the hub ships them).
    #[arg(long)]
    pub sops_age_key_file: Option<std::path::PathBuf>,
}

/// `fleetctl validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub repository: RepositoryArgs,
    /// Git revision to read; default: the directory as it is.
    #[arg(long)]
    pub rev: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// `fleetctl plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub repository: RepositoryArgs,
    /// The revision running now.
    #[arg(long)]
    pub from: String,
    /// The revision to preview.
    #[arg(long)]
    pub to: String,
    /// List changed objects without their diffs.
    #[arg(long)]
    pub no_diff: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// `fleetctl bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write a generated fleet repository (a Git repository with one commit).
    GenFleet(GenFleetArgs),
    /// Time rendering every cluster of a generated fleet.
    Render(BenchRenderArgs),
    /// Run N simulated agents (real enrollment, real mTLS sessions) against a hub.
    Agents(BenchAgentsArgs),
    /// Start a hub and N simulated agents, commit, and time the whole wave rollout.
    Rollout(BenchRolloutArgs),
    /// Start a hub, push N commits through the webhook, and read the state,
    /// snapshot and redb file sizes at checkpoints (retention at work).
    Retention(BenchRetentionArgs),
}

/// `fleetctl bench retention`.
#[derive(Debug, Args)]
pub struct BenchRetentionArgs {
    /// Number of clusters in the generated fleet.
    #[arg(long, default_value_t = 1000)]
    pub clusters: usize,
    /// Number of apps in the generated fleet.
    #[arg(long, default_value_t = 4)]
    pub apps: usize,
    /// Commits to push, one webhook each.
    #[arg(long, default_value_t = 2000)]
    pub commits: usize,
    /// After which commits to read the figures (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "100,1000,2000")]
    pub checkpoints: Vec<usize>,
    /// The hub's `retention.revisions`.
    #[arg(long, default_value_t = 100)]
    pub retain_revisions: usize,
    /// The hub's `retention.rollouts`.
    #[arg(long, default_value_t = 100)]
    pub retain_rollouts: usize,
    /// The hub's `raft.snapshotEvery` (small, so that the snapshot figures
    /// at a checkpoint are at most a few commits old).
    #[arg(long, default_value_t = 20)]
    pub snapshot_every: u64,
    /// The `fleet-hub` binary (default: next to fleetctl, else on PATH).
    #[arg(long)]
    pub hub_binary: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// How simulated agents enroll and behave.
#[derive(Debug, Clone, Args)]
pub struct SwarmArgs {
    /// Enrollments (token + Enroll call) in flight at once.
    #[arg(long, default_value_t = 64)]
    pub enroll_concurrency: usize,
    /// From receiving a desired state to reporting it applied.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub apply_delay: std::time::Duration,
}

/// `fleetctl bench agents`.
#[derive(Debug, Args)]
pub struct BenchAgentsArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// Number of simulated agents (the first N declared clusters, by name).
    #[arg(long)]
    pub clusters: usize,
    #[command(flatten)]
    pub swarm: SwarmArgs,
    /// Stop after this long (default: run until interrupted).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
}

/// `fleetctl bench rollout`.
#[derive(Debug, Args)]
pub struct BenchRolloutArgs {
    /// Number of clusters (and simulated agents).
    #[arg(long, default_value_t = 1000)]
    pub clusters: usize,
    /// Number of apps in the generated fleet.
    #[arg(long, default_value_t = 4)]
    pub apps: usize,
    #[command(flatten)]
    pub swarm: SwarmArgs,
    /// Kill this percentage of the agents, from the waves after the first,
    /// as the commit is announced (they come back when the rollout has ended).
    #[arg(long, default_value_t = 0)]
    pub kill_percent: u32,
    /// The fleet's `progressDeadline`.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub progress_deadline: std::time::Duration,
    /// The fleet's `maxFailures` (failed clusters tolerated per wave).
    #[arg(long, default_value_t = 0)]
    pub max_failures: u32,
    /// The `fleet-hub` binary (default: next to fleetctl, else on PATH).
    #[arg(long)]
    pub hub_binary: Option<PathBuf>,
    /// Keep the hub's log in this file (it is in a temporary directory).
    #[arg(long)]
    pub hub_log: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    fleet_core::model::FleetDuration::parse(text).map(|duration| duration.0)
}

/// Size of a generated fleet.
#[derive(Debug, Clone, Args)]
pub struct FleetSizeArgs {
    /// Number of clusters.
    #[arg(long, default_value_t = 1000)]
    pub clusters: usize,
    /// Number of apps.
    #[arg(long, default_value_t = 20)]
    pub apps: usize,
    /// Number of Helm apps besides them: each an in-repo chart with a
    /// values file per environment and `replicaCount: ${replicas}`.
    #[arg(long, default_value_t = 0)]
    pub helm_apps: usize,
}

/// `fleetctl bench gen-fleet`.
#[derive(Debug, Args)]
pub struct GenFleetArgs {
    #[command(flatten)]
    pub size: FleetSizeArgs,
    /// Directory to create (must not exist or be empty).
    #[arg(long)]
    pub out: PathBuf,
}

/// `fleetctl bench render`.
#[derive(Debug, Args)]
pub struct BenchRenderArgs {
    #[command(flatten)]
    pub size: FleetSizeArgs,
    /// Timed runs (each with a fresh renderer).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// The Helm binary for `--helm-apps` (default: FLEET_HELM, else `helm` on PATH).
    #[arg(long)]
    pub helm: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}
