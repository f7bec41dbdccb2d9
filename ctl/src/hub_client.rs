//! Reaching a hub: the context from fleetctl's configuration file, an mTLS
//! gRPC channel with the admin certificate, the endpoints tried in order.

use std::path::Path;

use anyhow::Context as _;
use fleet_hub::client_config::{ClientConfig, Context};
use fleet_proto::MAX_MESSAGE_BYTES;
use fleet_proto::admin_service_client::AdminServiceClient;
use fleet_proto::membership_service_client::MembershipServiceClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::cli::HubArgs;
use crate::error::CliError;

/// An admin client on the first reachable endpoint of the chosen hub.
pub async fn admin_client(args: &HubArgs) -> Result<AdminServiceClient<Channel>, CliError> {
    Ok(AdminServiceClient::new(hub_channel(args).await?)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES))
}

/// An admin client of the current context of the fleetctl configuration at
/// `fleetconfig` — for the hubs fleetctl starts itself (demo, benchmarks).
pub async fn admin_client_of(fleetconfig: &Path) -> anyhow::Result<AdminServiceClient<Channel>> {
    admin_client(&HubArgs {
        fleetconfig: Some(fleetconfig.to_owned()),
        context: None,
    })
    .await
    .map_err(|error| anyhow::anyhow!("{error}"))
}

/// A hub-membership client on the first reachable endpoint of the chosen hub.
pub async fn membership_client(
    args: &HubArgs,
) -> Result<MembershipServiceClient<Channel>, CliError> {
    Ok(MembershipServiceClient::new(hub_channel(args).await?))
}

/// An mTLS channel with the admin certificate to the first reachable
/// endpoint of the chosen hub (any node serves fleetctl).
pub async fn hub_channel(args: &HubArgs) -> Result<Channel, CliError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let context = hub_context(args)?;
    let read = |file: &Path| {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
    };
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(&context.ca)?))
        .identity(Identity::from_pem(
            read(&context.certificate)?,
            read(&context.key)?,
        ));
    let mut failures = Vec::new();
    for endpoint in &context.endpoints {
        let attempt = async {
            let channel = Endpoint::from_shared(endpoint.clone())?
                .tls_config(tls.clone())?
                .connect_timeout(std::time::Duration::from_secs(5))
                .connect()
                .await?;
            Ok::<_, tonic::transport::Error>(channel)
        };
        match attempt.await {
            Ok(channel) => return Ok(channel),
            Err(error) => failures.push(format!(
                "{endpoint}: {}",
                fleet_core::diagnostic::error_chain(&error)
            )),
        }
    }
    Err(CliError::Failure(anyhow::anyhow!(
        "could not reach hub '{}': {}",
        context.name,
        failures.join("; ")
    )))
}

/// The chosen context of fleetctl's configuration file.
pub fn hub_context(args: &HubArgs) -> Result<Context, CliError> {
    let path = ClientConfig::locate(args.fleetconfig.as_deref()).map_err(anyhow::Error::from)?;
    let config = ClientConfig::load(&path).map_err(anyhow::Error::from)?;
    let Some(context) = config.context(args.context.as_deref()) else {
        let known: Vec<&str> = config
            .contexts
            .iter()
            .map(|context| context.name.as_str())
            .collect();
        return Err(CliError::input(
            match &args.context {
                Some(name) => format!("no context '{name}' in {}", path.display()),
                None => format!("no current context in {}", path.display()),
            },
            Some(if known.is_empty() {
                "run `fleet-hub init` (it adds a context) or pass --fleetconfig".to_owned()
            } else {
                format!("known contexts: {}", known.join(", "))
            }),
        ));
    };
    Ok(context.clone())
}

/// A gRPC error as a fleetctl error: refusals are the user's problem (exit 1),
/// the rest are failures.
pub fn status_error(status: tonic::Status) -> CliError {
    use tonic::Code;
    let message = format!("the hub said {:?}: {}", status.code(), status.message());
    match status.code() {
        Code::InvalidArgument
        | Code::NotFound
        | Code::PermissionDenied
        | Code::Unauthenticated
        | Code::FailedPrecondition
        | Code::AlreadyExists => CliError::input(message, None),
        _ => CliError::Failure(anyhow::anyhow!(message)),
    }
}
