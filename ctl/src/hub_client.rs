//! Reaching a hub: the context from fleetctl's configuration file, an mTLS
//! gRPC channel with the admin certificate, the endpoints tried in order.
//! When the context's first endpoint does not answer and another does, the
//! endpoint list is refreshed from the hub's members (`hub members`) and
//! written back to the file, as etcd clients sync their endpoints — so a
//! context that knew one node learns the others while any of them answers.

use std::path::Path;

use anyhow::Context as _;
use fleet_client::{ClientConfig, Context};
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
    let (path, context) = located_context(args)?;
    let read = |pem: Result<String, fleet_client::ClientConfigError>| {
        pem.with_context(|| format!("reading context '{}' of {}", context.name, path.display()))
    };
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(context.ca_pem())?))
        .identity(Identity::from_pem(
            read(context.certificate_pem())?,
            read(context.key_pem())?,
        ));
    let mut failures = Vec::new();
    for (index, endpoint) in context.endpoints.iter().enumerate() {
        let attempt = async {
            let channel = Endpoint::from_shared(endpoint.clone())?
                .tls_config(tls.clone())?
                .connect_timeout(std::time::Duration::from_secs(5))
                .connect()
                .await?;
            Ok::<_, tonic::transport::Error>(channel)
        };
        match attempt.await {
            Ok(channel) => {
                if index > 0 {
                    sync_endpoints(&channel, &path, &context, endpoint).await;
                }
                return Ok(channel);
            }
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

/// The first endpoint of `context` did not answer but `answered` did: ask
/// the hub for its members and write the context's endpoints back as
/// `answered` first, then every other member. Best effort: a failure is a
/// note on stderr, never the command's failure.
async fn sync_endpoints(channel: &Channel, path: &Path, context: &Context, answered: &str) {
    let members = match MembershipServiceClient::new(channel.clone())
        .members(fleet_proto::MembersRequest {})
        .await
    {
        Ok(response) => response.into_inner().members,
        Err(status) => {
            eprintln!(
                "note: {answered} answered for hub '{}' but its members could not be read ({}); endpoints left as they are",
                context.name,
                status.message()
            );
            return;
        }
    };
    let mut endpoints = vec![answered.to_owned()];
    for member in members.iter().filter(|member| member.role != "removed") {
        let endpoint = format!("https://{}", member.address);
        if !endpoints.contains(&endpoint) {
            endpoints.push(endpoint);
        }
    }
    if endpoints == context.endpoints {
        return;
    }
    let saved = ClientConfig::load(path).and_then(|mut config| {
        if let Some(stored) = config
            .contexts
            .iter_mut()
            .find(|stored| stored.name == context.name)
        {
            stored.endpoints.clone_from(&endpoints);
        }
        config.save(path)
    });
    match saved {
        Ok(()) => eprintln!(
            "note: {} did not answer; hub '{}' endpoints refreshed from its members and saved to {}: {}",
            context.endpoints.first().map_or("", String::as_str),
            context.name,
            path.display(),
            endpoints.join(", ")
        ),
        Err(error) => eprintln!("note: could not save the refreshed hub endpoints: {error}"),
    }
}

/// The chosen context of fleetctl's configuration file.
pub fn hub_context(args: &HubArgs) -> Result<Context, CliError> {
    located_context(args).map(|(_, context)| context)
}

/// The configuration file and the chosen context in it.
fn located_context(args: &HubArgs) -> Result<(std::path::PathBuf, Context), CliError> {
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
    Ok((path, context.clone()))
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
