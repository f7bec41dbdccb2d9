//! `fleet-hub`: the hub's thin binary — `init` a node, `serve` it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fleet_client::ClientConfig;
use fleet_core::model::FleetDuration;
use fleet_hub::config::Config;
use fleet_hub::env;
use fleet_hub::init::{InitSettings, advertise, run as init};
use fleet_hub::join::{JoinSettings, add_to_fleetctl_context, node_endpoint, run as join};

/// Exit code for bad configuration (EX_USAGE).
const EXIT_CONFIG: u8 = 64;

/// The fleet hub.
#[derive(Debug, Parser)]
#[command(name = "fleet-hub", version, about)]
struct HubCli {
    #[command(subcommand)]
    command: HubCommand,
    /// Log format: text or json.
    #[arg(long, env = env::LOG_FORMAT, default_value = "text", global = true)]
    log_format: String,
}

#[derive(Debug, Subcommand)]
enum HubCommand {
    /// Create a new hub (CA, certificates, webhook secret, hub.yaml, fleetctl
    /// context), or with --join a new node of an existing hub.
    Init(Box<InitArgs>),
    /// Run a hub node.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct InitArgs {
    /// Directory for the hub's files (created; must not hold a hub.yaml).
    #[arg(long)]
    dir: PathBuf,
    /// Node name.
    #[arg(long, default_value = "hub-1")]
    name: String,
    /// Raft node id.
    #[arg(long, default_value_t = 1)]
    node_id: u64,
    /// gRPC address (listened on, given to agents and fleetctl).
    #[arg(long, default_value = "127.0.0.1:7443")]
    address: SocketAddr,
    /// `host:port` agents, fleetctl and other hub nodes reach this node at
    /// (default: --address); e.g. a Kubernetes Service name or a proxy.
    #[arg(long)]
    advertise_address: Option<String>,
    /// HTTP address (health, metrics, webhook).
    #[arg(long, default_value = "127.0.0.1:7080")]
    http_address: SocketAddr,
    /// Extra DNS names or IPs for the node certificate.
    #[arg(long = "san")]
    subject_alt_names: Vec<String>,
    /// Git remote of the fleet repository (not with --join: the hub's is used).
    #[arg(long, required_unless_present = "join")]
    repo: Option<String>,
    /// Join an existing hub through this node (`https://HOST:PORT`) instead
    /// of creating a new one.
    #[arg(long, requires_all = ["join_token", "join_ca"], conflicts_with = "repo")]
    join: Option<String>,
    /// The join token from `fleetctl hub join-token`.
    #[arg(long)]
    join_token: Option<String>,
    /// The existing hub's CA certificate (PEM) to verify it with.
    #[arg(long)]
    join_ca: Option<PathBuf>,
    /// Tracked branch.
    #[arg(long, default_value = "main")]
    branch: String,
    /// Fetch interval.
    #[arg(long, default_value = "30s", value_parser = FleetDuration::parse)]
    poll_interval: FleetDuration,
    /// Admin user named in the admin certificate.
    #[arg(long, default_value = "admin")]
    admin: String,
    /// fleetctl configuration file to add a context to (with --join: the file
    /// whose context gets this node's endpoint).
    #[arg(long, env = env::FLEETCONFIG)]
    fleetconfig: Option<PathBuf>,
    /// Don't touch fleetctl's configuration.
    #[arg(long)]
    no_fleetconfig: bool,
    /// Name of the fleetctl context (default: the node name; with --join: the
    /// context that lists the --join endpoint).
    #[arg(long)]
    context: Option<String>,
    /// Prometheus server (`http(s)://HOST:PORT`) that rollout metric gates
    /// query; written to hub.yaml `analysis.prometheus.url`.
    #[arg(long)]
    prometheus_url: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The hub.yaml that `fleet-hub init` wrote.
    #[arg(long, env = env::CONFIG)]
    config: PathBuf,
}

fn main() -> ExitCode {
    let cli = HubCli::parse();
    init_tracing(&cli.log_format);
    match cli.command {
        HubCommand::Init(args) => {
            let args = *args;
            if let (Some(join), Some(token), Some(ca_file)) = (
                args.join.clone(),
                args.join_token.clone(),
                args.join_ca.clone(),
            ) {
                let fleetconfig = if args.no_fleetconfig {
                    None
                } else {
                    ClientConfig::locate(args.fleetconfig.as_deref()).ok()
                };
                return run_join(JoinSettings {
                    dir: args.dir,
                    name: args.name,
                    node_id: args.node_id,
                    address: args.address,
                    http_address: args.http_address,
                    advertise_address: args.advertise_address.clone(),
                    subject_alt_names: args.subject_alt_names,
                    join,
                    token,
                    ca_file,
                    fleetconfig,
                    context: args.context.clone(),
                });
            }
            let fleetconfig = if args.no_fleetconfig {
                None
            } else {
                match ClientConfig::locate(args.fleetconfig.as_deref()) {
                    Ok(path) => Some(path),
                    Err(error) => {
                        eprintln!("error: {error}");
                        return ExitCode::from(EXIT_CONFIG);
                    }
                }
            };
            let settings = InitSettings {
                dir: args.dir,
                context: args.context.unwrap_or_else(|| args.name.clone()),
                name: args.name,
                node_id: args.node_id,
                address: args.address,
                http_address: args.http_address,
                subject_alt_names: args.subject_alt_names,
                repository: args.repo.unwrap_or_default(),
                branch: args.branch,
                poll_interval: args.poll_interval,
                admin: args.admin,
                fleetconfig: fleetconfig.clone(),
                prometheus_url: args.prometheus_url,
            };
            let initialized = init(&settings).and_then(|path| {
                if let Some(address) = &args.advertise_address {
                    advertise(
                        &path,
                        address,
                        fleetconfig
                            .as_deref()
                            .map(|file| (file, settings.context.as_str())),
                    )?;
                }
                Ok(path)
            });
            match initialized {
                Ok(path) => {
                    println!("wrote {}", path.display());
                    if let Some(fleetconfig) = fleetconfig {
                        println!(
                            "added fleetctl context '{}' to {}",
                            settings.context,
                            fleetconfig.display()
                        );
                    }
                    println!("start it with: fleet-hub serve --config {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(error) => report(&error, EXIT_CONFIG),
            }
        }
        HubCommand::Serve(args) => {
            let config = match Config::load(&args.config) {
                Ok(config) => config,
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(error) => {
                    eprintln!("error: starting the async runtime: {error}");
                    return ExitCode::FAILURE;
                }
            };
            let outcome = runtime.block_on(fleet_hub::app::serve(config));
            // Blocking work still running (a render, a Git fetch) must not
            // hold the exit beyond the shutdown grace.
            runtime.shutdown_timeout(std::time::Duration::from_millis(500));
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => report(&error, 1),
            }
        }
    }
}

fn run_join(settings: JoinSettings) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(join(&settings)) {
        Ok(path) => {
            println!("wrote {}", path.display());
            if let Some(fleetconfig) = &settings.fleetconfig {
                let endpoint = node_endpoint(&settings);
                match add_to_fleetctl_context(
                    fleetconfig,
                    settings.context.as_deref(),
                    &settings.join,
                    &endpoint,
                ) {
                    Ok(Some(context)) => println!(
                        "added {endpoint} to fleetctl context '{context}' in {}",
                        fleetconfig.display()
                    ),
                    Ok(None) => println!(
                        "no fleetctl context in {} lists {}: add {endpoint} to yours (fleetctl also learns it from `hub members` when its first endpoint fails)",
                        fleetconfig.display(),
                        settings.join
                    ),
                    Err(error) => eprintln!(
                        "warning: could not add {endpoint} to {}: {error:#}",
                        fleetconfig.display()
                    ),
                }
            }
            println!(
                "start it with: fleet-hub serve --config {} (the leader adds it as a learner, then a voter)",
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => report(&error, 1),
    }
}

fn report(error: &anyhow::Error, code: u8) -> ExitCode {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("Caused by: {cause}");
    }
    ExitCode::from(code)
}

fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env(env::LOG)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,openraft=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colour only on a terminal, never in JSON.
        .with_ansi(format != "json" && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
