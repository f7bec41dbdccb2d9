//! `fleetctl token create`: a single-use bootstrap token, printed once.

use fleet_proto::CreateTokenRequest;
use serde::Serialize;

use crate::cli::TokenCreateArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, status_error};
use crate::output::{OutputFormat, print_structured};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedToken {
    cluster: String,
    token: String,
    expires_at_ms: u64,
}

pub async fn run(args: &TokenCreateArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    let response = client
        .create_token(CreateTokenRequest {
            cluster: args.cluster.clone(),
            ttl_seconds: args.ttl.map_or(0, |ttl| ttl.0.as_secs()),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    if args.output == OutputFormat::Table {
        println!("{}", response.token);
        eprintln!(
            "single-use token for cluster {}; it expires in {}s",
            response.cluster,
            response
                .expires_at_ms
                .saturating_sub(crate::clock::now_ms())
                / 1000
        );
        return Ok(());
    }
    print_structured(
        &CreatedToken {
            cluster: response.cluster,
            token: response.token,
            expires_at_ms: response.expires_at_ms,
        },
        args.output,
    )?;
    Ok(())
}
