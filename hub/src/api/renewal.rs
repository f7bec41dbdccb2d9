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

/// Refuses a renewal while more than `enrollment.renewAfterFraction` of the
/// presented certificate's lifetime remains, so that an agent cannot renew
/// in a loop.
fn check_renewal_due(context: &ApiContext, cluster: &str, serial: &str) -> Result<(), Status> {
    let fraction = context.config.enrollment.renew_after_fraction;
    let lifetime = context.store.read(|state| {
        state.clusters.get(cluster).and_then(|record| {
            record
                .agents
                .iter()
                .find(|agent| agent.serial == serial)
                .map(|agent| (agent.issued_at_ms, agent.expires_at_ms))
        })
    });
    let Some((issued_at_ms, expires_at_ms)) = lifetime else {
        return Ok(()); // require_cluster found it; the Raft write decides
    };
    let span_ms = expires_at_ms.saturating_sub(issued_at_ms);
    // The product is below u64::MAX: fraction is at most 1.
    let due_at_ms = issued_at_ms.saturating_add((span_ms as f64 * fraction) as u64);
    let now = now_ms();
    if now < due_at_ms {
        return Err(Status::failed_precondition(format!(
            "certificate {serial} of cluster '{cluster}' may be renewed in {} s, once {:.0}% of its \
             lifetime has passed (enrollment.renewAfterFraction)",
            (due_at_ms - now).div_ceil(1000),
            fraction * 100.0
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
    check_renewal_due(context, &cluster, &previous_serial)?;
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
