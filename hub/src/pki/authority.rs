//! The certificate authority: generate, load, issue, sign CSRs.

use std::net::IpAddr;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType, SerialNumber,
};
use ring::rand::{SecureRandom, SystemRandom};
use time::OffsetDateTime;

use super::identity::Identity;
use super::requested_key::RequestedKey;

/// How long the CA itself is valid.
const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// Clock skew tolerated between the hub and its peers.
const BACKDATE: Duration = Duration::from_secs(3600);

/// Issuing or loading a certificate failed.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// rcgen refused the parameters or could not sign.
    #[error("{what}")]
    Certificate {
        /// What was being done.
        what: String,
        /// The cause.
        #[source]
        source: rcgen::Error,
    },
    /// The certificate signing request is malformed or its signature is wrong.
    #[error("invalid certificate signing request: {0}")]
    InvalidRequest(String),
    /// The CSR's public key is of a kind the CA does not sign.
    #[error(
        "the CSR's public key is {0}; the hub signs ECDSA P-256, ECDSA P-384 and Ed25519 keys only"
    )]
    UnsupportedKey(String),
    /// The system random source failed.
    #[error("the system random source failed")]
    Random,
}

fn failed(what: &str) -> impl FnOnce(rcgen::Error) -> PkiError + '_ {
    move |source| PkiError::Certificate {
        what: what.to_owned(),
        source,
    }
}

/// A certificate the CA issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCertificate {
    /// PEM of the certificate.
    pub certificate_pem: String,
    /// PEM of the private key, when the CA generated it (never for CSRs).
    pub key_pem: Option<String>,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Expiry (Unix milliseconds).
    pub not_after_ms: u64,
}

/// The hub's CA: its certificate and signing key.
pub struct CertificateAuthority {
    certificate_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CertificateAuthority")
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// Creates a new CA named `name`; returns it and its key's PEM.
    pub fn generate(name: &str) -> Result<(Self, String), PkiError> {
        let key = KeyPair::generate().map_err(failed("generating the CA key"))?;
        let mut params = CertificateParams::default();
        let mut distinguished_name = DistinguishedName::new();
        distinguished_name.push(DnType::CommonName, name);
        distinguished_name.push(DnType::OrganizationName, "fleet");
        params.distinguished_name = distinguished_name;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - BACKDATE;
        params.not_after = now + CA_VALIDITY;
        params.serial_number = Some(random_serial()?);
        let certificate = params
            .self_signed(&key)
            .map_err(failed("self-signing the CA"))?;
        let key_pem = key.serialize_pem();
        Ok((
            Self {
                certificate_pem: certificate.pem(),
                issuer: Issuer::new(params, key),
            },
            key_pem,
        ))
    }

    /// Loads a CA from its certificate and key PEM.
    pub fn load(certificate_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        let key = KeyPair::from_pem(key_pem).map_err(failed("reading the CA key"))?;
        let issuer = Issuer::from_ca_cert_pem(certificate_pem, key)
            .map_err(failed("reading the CA certificate"))?;
        Ok(Self {
            certificate_pem: certificate_pem.to_owned(),
            issuer,
        })
    }

    /// The CA certificate, PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// Issues a certificate with a new key pair (hub nodes, operators).
    pub fn issue_with_key(
        &self,
        identity: &Identity,
        dns_names: &[String],
        ip_addresses: &[IpAddr],
        validity: Duration,
    ) -> Result<IssuedCertificate, PkiError> {
        let key = KeyPair::generate().map_err(failed("generating a key"))?;
        let mut issued = self.issue(identity, dns_names, ip_addresses, validity, &key)?;
        issued.key_pem = Some(key.serialize_pem());
        Ok(issued)
    }

    /// Signs an agent's CSR for `identity`. Only the CSR's public key is
    /// used (its signature is checked); subject, SANs, CA flag and key usages
    /// are the CA's choice.
    pub fn sign_request(
        &self,
        request_pem: &str,
        identity: &Identity,
        validity: Duration,
    ) -> Result<IssuedCertificate, PkiError> {
        let public_key = self.check_request(request_pem)?;
        self.sign_public_key(&public_key, identity, validity)
    }

    /// Checks a CSR without signing anything: it parses, its signature is
    /// right, and its public key is one the CA signs. Returns that key.
    pub fn check_request(&self, request_pem: &str) -> Result<RequestedKey, PkiError> {
        RequestedKey::from_request_pem(request_pem)
    }

    /// Signs a certificate for `identity` over a key [`Self::check_request`]
    /// accepted.
    pub fn sign_public_key(
        &self,
        public_key: &RequestedKey,
        identity: &Identity,
        validity: Duration,
    ) -> Result<IssuedCertificate, PkiError> {
        self.issue(identity, &[], &[], validity, public_key.public_key())
    }

    fn issue(
        &self,
        identity: &Identity,
        dns_names: &[String],
        ip_addresses: &[IpAddr],
        validity: Duration,
        public_key: &impl PublicKeyData,
    ) -> Result<IssuedCertificate, PkiError> {
        let mut params = CertificateParams::default();
        let mut distinguished_name = DistinguishedName::new();
        distinguished_name.push(DnType::CommonName, identity.uri());
        params.distinguished_name = distinguished_name;
        let uri = identity
            .uri()
            .try_into()
            .map_err(failed("encoding the identity"))?;
        params.subject_alt_names.push(SanType::URI(uri));
        for name in dns_names {
            let name = name
                .clone()
                .try_into()
                .map_err(failed("encoding a DNS name"))?;
            params.subject_alt_names.push(SanType::DnsName(name));
        }
        for address in ip_addresses {
            params.subject_alt_names.push(SanType::IpAddress(*address));
        }
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = match identity {
            Identity::Hub(_) => vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
            Identity::Cluster(_) | Identity::Admin(_) | Identity::User(_) => {
                vec![ExtendedKeyUsagePurpose::ClientAuth]
            }
        };
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - BACKDATE;
        params.not_after = now + validity;
        let serial = random_serial()?;
        params.serial_number = Some(serial.clone());
        let certificate = params
            .signed_by(public_key, &self.issuer)
            .map_err(failed("signing a certificate"))?;
        let not_after_ms = u64::try_from(params.not_after.unix_timestamp()).unwrap_or(0) * 1000;
        Ok(IssuedCertificate {
            certificate_pem: certificate.pem(),
            key_pem: None,
            serial: hex::encode(serial.as_ref()),
            not_after_ms,
        })
    }
}

fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0_u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PkiError::Random)?;
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x01; // no leading zero byte to strip: the hex form stays stable
    Ok(SerialNumber::from_slice(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::PeerCertificate;

    fn der(pem: &str) -> Vec<u8> {
        let mut reader = std::io::BufReader::new(pem.as_bytes());
        rustls_pemfile::certs(&mut reader)
            .next()
            .unwrap()
            .unwrap()
            .to_vec()
    }

    #[test]
    fn signs_requests_with_its_own_identity_not_the_requests() {
        let (authority, _) = CertificateAuthority::generate("test CA").unwrap();
        // The agent asks for a hub identity and CA rights; it gets neither.
        let key = KeyPair::generate().unwrap();
        let mut wanted = CertificateParams::new(vec!["hub.example.com".to_owned()]).unwrap();
        wanted.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let request = wanted.serialize_request(&key).unwrap().pem().unwrap();
        let identity = Identity::Cluster("prod-eu-1".into());
        let issued = authority
            .sign_request(&request, &identity, Duration::from_secs(3600))
            .unwrap();
        assert!(issued.key_pem.is_none());
        let peer = PeerCertificate::from_der(&der(&issued.certificate_pem)).unwrap();
        assert_eq!(peer.identity, identity);
        assert_eq!(peer.serial, issued.serial);
        let certificate_der = der(&issued.certificate_pem);
        let (_, parsed) = x509_parser::parse_x509_certificate(&certificate_der).unwrap();
        assert!(!parsed.is_ca());
        let names = parsed.subject_alternative_name().unwrap().unwrap();
        assert_eq!(
            names.value.general_names.len(),
            1,
            "only the fleet identity"
        );
        assert!(
            authority
                .sign_request("not a csr", &identity, Duration::from_secs(1))
                .is_err()
        );
    }

    #[test]
    fn reloaded_authority_keeps_signing() {
        let (authority, key_pem) = CertificateAuthority::generate("test CA").unwrap();
        let reloaded = CertificateAuthority::load(authority.certificate_pem(), &key_pem).unwrap();
        let issued = reloaded
            .issue_with_key(
                &Identity::Hub("hub-1".into()),
                &["localhost".into()],
                &["127.0.0.1".parse().unwrap()],
                Duration::from_secs(3600),
            )
            .unwrap();
        assert!(issued.key_pem.is_some());
        let peer = PeerCertificate::from_der(&der(&issued.certificate_pem)).unwrap();
        assert_eq!(peer.identity, Identity::Hub("hub-1".into()));
    }
}
