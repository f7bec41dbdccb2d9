//! `fleetctl cluster revoke NAME`: the cluster's agent certificates are
//! refused from the next call on and its open session is cut.

use fleet_proto::RevokeClusterRequest;

use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};
use crate::user_cli::ClusterNameArgs;

pub async fn revoke(args: &ClusterNameArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    client
        .revoke_cluster(RevokeClusterRequest {
            cluster: args.name.clone(),
        })
        .await
        .map_err(status_error)?;
    println!(
        "cluster {} revoked: its agent is refused and its session cut",
        args.name
    );
    Ok(())
}
