//! `AgentService.Renew`: an agent exchanges a CSR for a new certificate of
//! its own cluster, authenticated by its current certificate (no token).
//!
//! The caller must present a certificate the hub issued to a cluster that is
//! not revoked ([`require_cluster`]); the new certificate names the same
//! cluster whatever the CSR asks for (the CA sets SANs, CA flag and key
//! usages), and its serial is recorded through Raft before it is returned.
//! The certificate the agent renewed with stays valid until it expires.

use fleet_proto::{EnrollResponse, RenewRequest};
use tonic::{Request, Response, Status};
use tracing::{info, instrument};

use super::auth::require_cluster;
use super::context::ApiContext;
use crate::clock::now_ms;
use crate::pki::Identity;
use crate::state::{Command, CommandResult};

/// Largest CSR accepted (a real one is about 1 KiB).
pub const MAX_CSR_BYTES: usize = 64 * 1024;

/// Refuses an empty or oversized CSR before it is parsed.
pub fn check_csr_size(csr_pem: &str) -> Result<(), Status> {
    if csr_pem.trim().is_empty() {
        return Err(Status::invalid_argument("a CSR is required"));
    }
    if csr_pem.len() > MAX_CSR_BYTES {
        return Err(Status::invalid_argument(format!(
            "the CSR is {} bytes; at most {MAX_CSR_BYTES} are accepted",
            csr_pem.len()
        )));
    }
    Ok(())
}

/// Signs a new certificate for the caller's cluster and records its serial.
#[instrument(skip_all, fields(cluster, serial))]
pub async fn renew(
    context: &ApiContext,
    request: Request<RenewRequest>,
) -> Result<Response<EnrollResponse>, Status> {
    let (cluster, previous_serial) = require_cluster(&request, &context.store)?;
    tracing::Span::current().record("cluster", cluster.as_str());
    tracing::Span::current().record("serial", previous_serial.as_str());
    let request = request.into_inner();
    check_csr_size(&request.csr_pem)?;
    let validity = context.config.enrollment.certificate_validity.0;
    let identity = Identity::Cluster(cluster.clone());
    let now = now_ms();
    let issued = context
        .authority
        .sign_request(&request.csr_pem, &identity, validity)
        .map_err(|error| Status::invalid_argument(error.to_string()))?;
    let result = context
        .store
        .write(Command::RenewCertificate {
            cluster: cluster.clone(),
            previous_serial: previous_serial.clone(),
            serial: issued.serial.clone(),
            at_ms: now,
            expires_at_ms: issued.not_after_ms,
        })
        .await
        .map_err(|error| {
            Status::unavailable(format!("the hub could not record the renewal: {error}"))
        })?;
    if let CommandResult::Rejected(reason) = result {
        return Err(Status::permission_denied(reason));
    }
    info!(new_serial = %issued.serial, expires_at_ms = issued.not_after_ms, "renewed an agent certificate");
    Ok(Response::new(EnrollResponse {
        certificate_pem: issued.certificate_pem,
        ca_pem: context.authority.certificate_pem().to_owned(),
        hub_endpoints: context.hub_endpoints(),
        identity: identity.uri(),
        expires_at_ms: issued.not_after_ms,
        issued_at_ms: now,
    }))
}
