//! `fleetctl bench agents`: N simulated agents against a running hub (the
//! context's), each enrolled with its own token and certificate and holding
//! its own mTLS session, until interrupted — to load a hub by hand and watch
//! it with `fleetctl status`, `/metrics` and `top`.

use std::time::{Duration, Instant};

use fleet_proto::ListClustersRequest;

use super::simulated_agent::Behaviour;
use super::swarm::{HubAccess, Swarm};
use crate::cli::BenchAgentsArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, hub_context, status_error};

pub async fn run(args: &BenchAgentsArgs) -> Result<(), CliError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let context = hub_context(&args.hub)?;
    let access = HubAccess {
        endpoints: context.endpoints.clone(),
        ca_pem: context.ca_pem().map_err(anyhow::Error::from)?,
    };
    let mut admin = admin_client(&args.hub).await?;
    let mut clusters: Vec<String> = admin
        .list_clusters(ListClustersRequest {})
        .await
        .map_err(status_error)?
        .into_inner()
        .clusters
        .into_iter()
        .filter(|cluster| cluster.declared && !cluster.revoked)
        .map(|cluster| cluster.name)
        .collect();
    clusters.sort();
    if clusters.len() < args.clusters {
        return Err(CliError::input(
            format!(
                "the hub declares {} clusters, fewer than the {} asked for",
                clusters.len(),
                args.clusters
            ),
            Some("generate a bigger fleet with `fleetctl bench gen-fleet --clusters N`".to_owned()),
        ));
    }
    clusters.truncate(args.clusters);
    let started = Instant::now();
    let mut swarm = Swarm::enroll(
        &admin,
        &access,
        &clusters,
        args.swarm.enroll_concurrency,
        Behaviour {
            apply_delay: args.swarm.apply_delay,
        },
    )
    .await?;
    eprintln!(
        "enrolled {} agents in {:.1} s; sessions starting (Ctrl-C stops)",
        clusters.len(),
        started.elapsed().as_secs_f64()
    );
    swarm.start_all();
    let stop_after = args.duration.unwrap_or(Duration::MAX);
    let started = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        let summary = admin
            .list_clusters(ListClustersRequest {})
            .await
            .map_err(status_error)?
            .into_inner()
            .clusters;
        let ours = summary
            .iter()
            .filter(|cluster| clusters.binary_search(&cluster.name).is_ok());
        let (mut connected, mut converged) = (0, 0);
        for cluster in ours {
            connected += usize::from(cluster.connected);
            converged += usize::from(
                !cluster.target_digest.is_empty()
                    && cluster.applied_digest == cluster.target_digest
                    && cluster.health == fleet_proto::Health::Healthy as i32,
            );
        }
        eprintln!(
            "{:>6.0} s: {connected} connected (to the node answering), {converged} converged of {}",
            started.elapsed().as_secs_f64(),
            clusters.len()
        );
        if started.elapsed() >= stop_after {
            break;
        }
    }
    swarm.kill_all();
    Ok(())
}
