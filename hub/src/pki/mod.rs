//! The hub's own certificate authority (DESIGN §6).
//!
//! Identities live in certificate URI SANs: `spiffe://fleet/cluster/<name>`,
//! `spiffe://fleet/hub/<node>`, `spiffe://fleet/admin/<user>`. The CA issues
//! the hub nodes' server certificates, operators' admin certificates and —
//! from a CSR, so the private key never leaves the cluster — agents'
//! certificates. When signing a CSR nothing is copied from it but its public
//! key: SANs, CA flag and key usages are set here.

mod authority;
mod identity;
mod requested_key;
mod token;

pub use authority::{CertificateAuthority, IssuedCertificate, PkiError};
pub use identity::{Identity, PeerCertificate};
pub use requested_key::RequestedKey;
pub use token::{SecretToken, hash_token};
