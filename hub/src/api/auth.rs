//! Who is calling: the fleet identity in the peer's client certificate.
//!
//! One TLS port serves all: the handshake accepts an optional client
//! certificate signed by the hub CA (rustls checks chain and validity), and
//! each method other than `Enroll` checks the identity itself here. Revoked
//! clusters are refused per call against the replicated state.

use tonic::{Request, Status};

use crate::pki::{Identity, PeerCertificate};
use crate::store::FleetStore;

/// The peer's verified certificate, or `UNAUTHENTICATED`.
pub fn peer<T>(request: &Request<T>) -> Result<PeerCertificate, Status> {
    let certificates = request.peer_certs().ok_or_else(|| {
        Status::unauthenticated("a client certificate issued by the hub CA is required")
    })?;
    let first = certificates.first().ok_or_else(|| {
        Status::unauthenticated("a client certificate issued by the hub CA is required")
    })?;
    PeerCertificate::from_der(first.as_ref())
        .ok_or_else(|| Status::unauthenticated("the client certificate carries no fleet identity"))
}

/// The admin identity of the caller (its URI, for the audit log).
pub fn require_admin<T>(request: &Request<T>) -> Result<String, Status> {
    let peer = peer(request)?;
    match &peer.identity {
        Identity::Admin(_) => Ok(peer.identity.uri()),
        other => Err(Status::permission_denied(format!(
            "{other} may not call admin methods (an admin certificate is required)"
        ))),
    }
}

/// The hub node name of a peer hub (Raft calls).
pub fn require_hub<T>(request: &Request<T>) -> Result<String, Status> {
    let peer = peer(request)?;
    match &peer.identity {
        Identity::Hub(name) => Ok(name.clone()),
        other => Err(Status::permission_denied(format!(
            "{other} may not call Raft methods (a hub node certificate is required)"
        ))),
    }
}

/// The cluster of an agent caller whose certificate is current (issued by
/// enrollment and not revoked).
pub fn require_cluster<T>(
    request: &Request<T>,
    store: &FleetStore,
) -> Result<(String, String), Status> {
    let peer = peer(request)?;
    let Identity::Cluster(cluster) = &peer.identity else {
        return Err(Status::permission_denied(format!(
            "{} is not an agent identity",
            peer.identity
        )));
    };
    let (current, revoked) = store.read(|state| {
        (
            state.is_current_agent(cluster, &peer.serial),
            state
                .clusters
                .get(cluster)
                .is_some_and(|record| record.revoked),
        )
    });
    if revoked {
        return Err(Status::permission_denied(format!(
            "cluster '{cluster}' has been revoked"
        )));
    }
    if !current {
        return Err(Status::permission_denied(format!(
            "certificate {} of cluster '{cluster}' is not a current enrollment",
            peer.serial
        )));
    }
    Ok((cluster.clone(), peer.serial))
}
