//! `fleetctl user create|list|revoke|renew`: operators with roles.
//!
//! `create` makes the new user's key pair here and sends only a CSR; the
//! hub signs it for `spiffe://fleet/user/NAME` and records name, role and
//! scope. The key is written nowhere but into the configuration FILE
//! (CA, certificate and key embedded, mode 0600) handed to the operator.

use std::path::Path;

use anyhow::Context as _;
use comfy_table::Table;
use fleet_client::{ClientConfig, Context};
use fleet_proto::{
    CreateUserRequest, ListUsersRequest, RenewUserRequest, RevokeUserRequest, UserRole,
};
use serde::Serialize;

use crate::cli::HubReadArgs;
use crate::error::CliError;
use crate::hub_client::{admin_client, hub_context, status_error};
use crate::output::{OutputFormat, print_structured};
use crate::user_cli::{RoleArg, UserCommand, UserCreateArgs, UserNameArgs, UserRenewArgs};

/// Runs one `fleetctl user` command.
pub async fn run(command: UserCommand) -> Result<(), CliError> {
    match command {
        UserCommand::Create(args) => create(&args).await,
        UserCommand::List(args) => list(&args).await,
        UserCommand::Revoke(args) => revoke(&args).await,
        UserCommand::Renew(args) => renew(&args).await,
    }
}

/// A new key pair and a CSR over it: (key PEM, CSR PEM).
fn key_and_request() -> anyhow::Result<(String, String)> {
    let key = rcgen::KeyPair::generate().context("generating a key pair")?;
    let request = rcgen::CertificateParams::new(Vec::<String>::new())
        .and_then(|params| params.serialize_request(&key))
        .and_then(|request| request.pem())
        .context("making a certificate signing request")?;
    Ok((key.serialize_pem(), request))
}

fn role_name(role: i32) -> &'static str {
    match UserRole::try_from(role) {
        Ok(UserRole::Viewer) => "viewer",
        Ok(UserRole::Operator) => "operator",
        Ok(UserRole::Admin) => "admin",
        _ => "unknown",
    }
}

async fn create(args: &UserCreateArgs) -> Result<(), CliError> {
    if args.out.exists() {
        return Err(CliError::input(
            format!(
                "{} already exists: refusing to overwrite it",
                args.out.display()
            ),
            Some("name a new file with --out".to_owned()),
        ));
    }
    let own = hub_context(&args.hub)?;
    let (key_pem, csr_pem) = key_and_request()?;
    let role = match args.role {
        RoleArg::Viewer => UserRole::Viewer,
        RoleArg::Operator => UserRole::Operator,
        RoleArg::Admin => UserRole::Admin,
    };
    let mut client = admin_client(&args.hub).await?;
    let response = client
        .create_user(CreateUserRequest {
            name: args.name.clone(),
            role: role as i32,
            environments: args.environments.clone(),
            ttl_seconds: args.ttl.map_or(0, |ttl| ttl.as_secs()),
            csr_pem,
        })
        .await
        .map_err(status_error)?
        .into_inner();
    let endpoints = if response.hub_endpoints.is_empty() {
        own.endpoints.clone()
    } else {
        response.hub_endpoints.clone()
    };
    let mut config = ClientConfig::default();
    config.upsert(Context {
        name: own.name.clone(),
        endpoints,
        ca_data: Some(response.ca_pem),
        certificate_data: Some(response.certificate_pem),
        key_data: Some(key_pem),
        ..Context::default()
    });
    config
        .save_private(&args.out)
        .map_err(anyhow::Error::from)?;
    let scope = if args.environments.is_empty() {
        String::new()
    } else {
        format!(", environments {}", args.environments.join(", "))
    };
    println!(
        "user {} created (role {}{scope}, certificate {}, expires in {} days); configuration written to {}",
        args.name,
        role_name(role as i32),
        response.serial,
        response
            .expires_at_ms
            .saturating_sub(crate::clock::now_ms())
            / 86_400_000,
        args.out.display()
    );
    eprintln!(
        "hint: hand {} to {} privately (it holds their key); they use it with --fleetconfig or $FLEETCONFIG",
        args.out.display(),
        args.name
    );
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserRow {
    name: String,
    role: String,
    environments: Vec<String>,
    certificates: Vec<CertificateRow>,
    created_at_ms: u64,
    created_by: String,
    revoked: bool,
    revoked_at_ms: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CertificateRow {
    serial: String,
    issued_at_ms: u64,
    expires_at_ms: u64,
}

async fn list(args: &HubReadArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    let users = client
        .list_users(ListUsersRequest {})
        .await
        .map_err(status_error)?
        .into_inner()
        .users;
    let rows: Vec<UserRow> = users
        .into_iter()
        .map(|user| UserRow {
            role: role_name(user.role).to_owned(),
            name: user.name,
            environments: user.environments,
            certificates: user
                .certificates
                .into_iter()
                .map(|certificate| CertificateRow {
                    serial: certificate.serial,
                    issued_at_ms: certificate.issued_at_ms,
                    expires_at_ms: certificate.expires_at_ms,
                })
                .collect(),
            created_at_ms: user.created_at_ms,
            created_by: user.created_by,
            revoked: user.revoked_at_ms.is_some(),
            revoked_at_ms: user.revoked_at_ms,
        })
        .collect();
    if args.output != OutputFormat::Table {
        print_structured(&rows, args.output)?;
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header([
        "NAME",
        "ROLE",
        "ENVIRONMENTS",
        "EXPIRES (UNIX MS)",
        "REVOKED",
    ]);
    for row in rows {
        table.add_row([
            row.name,
            row.role,
            if row.environments.is_empty() {
                "all".to_owned()
            } else {
                row.environments.join(",")
            },
            row.certificates.last().map_or_else(
                || "-".to_owned(),
                |certificate| certificate.expires_at_ms.to_string(),
            ),
            if row.revoked { "yes" } else { "no" }.to_owned(),
        ]);
    }
    println!("{table}");
    Ok(())
}

async fn revoke(args: &UserNameArgs) -> Result<(), CliError> {
    let mut client = admin_client(&args.hub).await?;
    client
        .revoke_user(RevokeUserRequest {
            name: args.name.clone(),
        })
        .await
        .map_err(status_error)?;
    println!(
        "user {} revoked: its certificates are refused from the next call on",
        args.name
    );
    Ok(())
}

async fn renew(args: &UserRenewArgs) -> Result<(), CliError> {
    let path =
        ClientConfig::locate(args.hub.fleetconfig.as_deref()).map_err(anyhow::Error::from)?;
    let context_name = hub_context(&args.hub)?.name;
    let (key_pem, csr_pem) = key_and_request()?;
    let mut client = admin_client(&args.hub).await?;
    let response = client
        .renew_user(RenewUserRequest {
            csr_pem,
            ttl_seconds: args.ttl.map_or(0, |ttl| ttl.as_secs()),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    let mut config = ClientConfig::load(&path).map_err(anyhow::Error::from)?;
    let Some(context) = config
        .contexts
        .iter_mut()
        .find(|context| context.name == context_name)
    else {
        return Err(CliError::Failure(anyhow::anyhow!(
            "context '{context_name}' vanished from {} while renewing; the new certificate {} was not saved",
            path.display(),
            response.serial
        )));
    };
    if context.key_data.is_some() || context.key.as_os_str().is_empty() {
        context.certificate_data = Some(response.certificate_pem);
        context.key_data = Some(key_pem);
        context.certificate = Default::default();
        context.key = Default::default();
        config.save_private(&path).map_err(anyhow::Error::from)?;
    } else {
        write_private(&context.key, &key_pem)?;
        std::fs::write(&context.certificate, &response.certificate_pem)
            .with_context(|| format!("writing {}", context.certificate.display()))?;
    }
    println!(
        "certificate renewed ({}, expires in {} days) and saved in context '{context_name}' of {}",
        response.serial,
        response
            .expires_at_ms
            .saturating_sub(crate::clock::now_ms())
            / 86_400_000,
        path.display()
    );
    Ok(())
}

/// Replaces `path` with a new file of mode 0600 holding `text`.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error).with_context(|| format!("replacing {}", path.display())),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
