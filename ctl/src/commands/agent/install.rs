//! `fleetctl agent install`: mint a bootstrap token through the hub and
//! print — or apply with the user's kubeconfig, then wait until the agent is
//! connected — the manifests that run the agent in a cluster.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use fleet_agent::install::{DEFAULT_IMAGE, DEFAULT_NAMESPACE, InstallSpec, manifests};
use fleet_client::ClientConfig;
use fleet_proto::{CreateTokenRequest, ListClustersRequest};

use crate::cli::AgentInstallArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};

pub async fn run(args: &AgentInstallArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    let path =
        ClientConfig::locate(args.hub.fleetconfig.as_deref()).map_err(anyhow::Error::from)?;
    let config = ClientConfig::load(&path).map_err(anyhow::Error::from)?;
    let Some(context) = config.context(args.hub.context.as_deref()) else {
        return Err(CliError::input(
            format!("no hub context in {}", path.display()),
            None,
        ));
    };
    let ca_pem = context
        .ca_pem()
        .with_context(|| format!("reading the hub CA of context '{}'", context.name))?;
    let endpoints = if args.hub_endpoints.is_empty() {
        context.endpoints.clone()
    } else {
        args.hub_endpoints.clone()
    };
    let token = client
        .create_token(CreateTokenRequest {
            cluster: args.cluster.clone(),
            ttl_seconds: 0,
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .token;
    let yaml = manifests(&InstallSpec {
        cluster: args.cluster.clone(),
        hub_endpoints: endpoints,
        ca_pem,
        token,
        image: args
            .image
            .clone()
            .unwrap_or_else(|| DEFAULT_IMAGE.to_owned()),
        namespace: args
            .namespace
            .clone()
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
    })
    .map_err(anyhow::Error::from)?;
    if args.output.is_some() {
        print!("{yaml}");
        return Ok(());
    }
    apply(
        &yaml,
        args.kubeconfig.as_deref(),
        args.kube_context.as_deref(),
    )?;
    eprintln!(
        "applied the agent manifests; waiting for cluster {} to connect",
        args.cluster
    );
    let started = Instant::now();
    let frames = ['|', '/', '-', '\\'];
    let mut frame = 0;
    loop {
        let connected = client
            .list_clusters(ListClustersRequest {})
            .await
            .map_err(status_error)?
            .into_inner()
            .clusters
            .iter()
            .any(|cluster| cluster.name == args.cluster && cluster.connected);
        if connected {
            eprintln!(
                "\rcluster {} is connected ({}s)",
                args.cluster,
                started.elapsed().as_secs()
            );
            return Ok(());
        }
        if started.elapsed() > args.wait_timeout {
            return Err(CliError::Failure(anyhow::anyhow!(
                "cluster {} did not connect within {}s (--wait-timeout); check `kubectl -n fleet-system logs deploy/fleet-agent`",
                args.cluster,
                args.wait_timeout.as_secs()
            )));
        }
        eprint!(
            "\r{} waiting for the agent ({}s)",
            frames[frame % frames.len()],
            started.elapsed().as_secs()
        );
        let _ = std::io::stderr().flush();
        frame += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn apply(
    yaml: &str,
    kubeconfig: Option<&std::path::Path>,
    kube_context: Option<&str>,
) -> anyhow::Result<()> {
    let mut command = Command::new("kubectl");
    if let Some(kubeconfig) = kubeconfig {
        command.arg("--kubeconfig").arg(kubeconfig);
    }
    if let Some(context) = kube_context {
        command.args(["--context", context]);
    }
    let mut child = command
        .args([
            "apply",
            "--server-side",
            "--field-manager",
            "fleetctl",
            "-f",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .spawn()
        .context("running kubectl (is it installed?)")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(yaml.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "kubectl apply failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
