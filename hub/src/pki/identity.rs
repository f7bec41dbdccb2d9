//! Identities carried in certificates, and reading them from a peer's certificate.

use std::fmt;

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The URI prefix of every fleet identity.
const PREFIX: &str = "spiffe://fleet/";

/// Who a certificate speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// An agent of the named cluster.
    Cluster(String),
    /// A hub node.
    Hub(String),
    /// The operator `fleet-hub init` made a certificate for (an admin
    /// unless revoked).
    Admin(String),
    /// An operator created with `fleetctl user create`; its role is in the
    /// replicated state.
    User(String),
}

impl Identity {
    /// The identity as a SPIFFE-style URI.
    pub fn uri(&self) -> String {
        match self {
            Identity::Cluster(name) => format!("{PREFIX}cluster/{name}"),
            Identity::Hub(name) => format!("{PREFIX}hub/{name}"),
            Identity::Admin(name) => format!("{PREFIX}admin/{name}"),
            Identity::User(name) => format!("{PREFIX}user/{name}"),
        }
    }

    /// Parses `spiffe://fleet/<kind>/<name>`.
    pub fn parse(uri: &str) -> Option<Self> {
        let (kind, name) = uri.strip_prefix(PREFIX)?.split_once('/')?;
        if name.is_empty() || name.contains('/') {
            return None;
        }
        match kind {
            "cluster" => Some(Identity::Cluster(name.to_owned())),
            "hub" => Some(Identity::Hub(name.to_owned())),
            "admin" => Some(Identity::Admin(name.to_owned())),
            "user" => Some(Identity::User(name.to_owned())),
            _ => None,
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.uri())
    }
}

/// What the hub needs to know about a peer's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificate {
    /// The fleet identity in its URI SAN.
    pub identity: Identity,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Expiry (Unix milliseconds).
    pub not_after_ms: u64,
}

impl PeerCertificate {
    /// Reads a DER certificate; `None` if it carries no fleet identity.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let (_, certificate) = X509Certificate::from_der(der).ok()?;
        let identity = certificate
            .subject_alternative_name()
            .ok()
            .flatten()?
            .value
            .general_names
            .iter()
            .find_map(|name| match name {
                GeneralName::URI(uri) => Identity::parse(uri),
                _ => None,
            })?;
        let serial = hex::encode(certificate.raw_serial());
        let not_after_ms = u64::try_from(certificate.validity().not_after.timestamp())
            .unwrap_or(0)
            .saturating_mul(1000);
        Some(Self {
            identity,
            serial,
            not_after_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_identities() {
        let identity = Identity::parse("spiffe://fleet/cluster/prod-eu-1").unwrap();
        assert_eq!(identity, Identity::Cluster("prod-eu-1".into()));
        assert_eq!(identity.uri(), "spiffe://fleet/cluster/prod-eu-1");
        assert!(Identity::parse("spiffe://other/cluster/a").is_none());
        assert!(Identity::parse("spiffe://fleet/cluster/").is_none());
        assert!(Identity::parse("spiffe://fleet/king/a").is_none());
    }
}
