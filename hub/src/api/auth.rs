//! Who is calling: the fleet identity in the peer's client certificate.
//!
//! One TLS port serves all: the handshake accepts an optional client
//! certificate signed by the hub CA (rustls checks chain and validity), and
//! each method other than `Enroll` checks the identity itself here. Revoked
//! clusters and removed hub nodes are refused per call against the
//! replicated state; operators' roles are checked in `authorization.rs`.

use tonic::{Request, Status};

use crate::pki::{Identity, PeerCertificate};
use crate::raft::SharedState;
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

/// The hub node name of a peer hub (Raft calls and forwarded writes). A
/// node an operator removed (`fleetctl hub remove`) is refused until it is
/// added again: its certificate is revoked with it.
pub fn require_hub<T>(request: &Request<T>, state: &SharedState) -> Result<String, Status> {
    let peer = peer(request)?;
    match &peer.identity {
        Identity::Hub(name) => {
            if state.read(|state| state.is_removed_hub_node(name)) {
                return Err(Status::permission_denied(format!(
                    "hub node '{name}' has been removed from the hub and its certificate revoked (fleetctl hub add {name} re-admits it)"
                )));
            }
            Ok(name.clone())
        }
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
