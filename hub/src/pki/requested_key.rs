//! The public key of an agent's certificate signing request, checked.
//!
//! The certificate's key algorithm is taken from the CSR's public key
//! (its SubjectPublicKeyInfo), never from the algorithm that signed the CSR:
//! a P-256 key may sign its CSR with SHA-384 and still gets a P-256
//! certificate. Keys of any other kind than ECDSA P-256, ECDSA P-384 and
//! Ed25519 are refused by name before the signature is even checked.

use rcgen::{PublicKeyData, SubjectPublicKeyInfo};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_RSAENCRYPTION, OID_PKCS1_RSASSAPSS, OID_SIG_ED448, OID_SIG_ED25519,
};
use x509_parser::prelude::FromDer;

use super::authority::PkiError;

/// A public key from a CSR whose signature is right and whose kind the CA
/// signs.
pub struct RequestedKey {
    public_key: SubjectPublicKeyInfo,
}

impl std::fmt::Debug for RequestedKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RequestedKey")
            .field("algorithm", self.public_key.algorithm())
            .finish_non_exhaustive()
    }
}

impl RequestedKey {
    /// Parses a PEM CSR, checks its key kind, then its signature.
    pub fn from_request_pem(request_pem: &str) -> Result<Self, PkiError> {
        let mut reader = std::io::BufReader::new(request_pem.as_bytes());
        let der = rustls_pemfile::csr(&mut reader)
            .map_err(|error| PkiError::InvalidRequest(format!("not PEM: {error}")))?
            .ok_or_else(|| {
                PkiError::InvalidRequest("no 'CERTIFICATE REQUEST' PEM block".to_owned())
            })?;
        let (_, request) = X509CertificationRequest::from_der(der.as_ref())
            .map_err(|error| PkiError::InvalidRequest(format!("not a CSR: {error}")))?;
        let key_info = &request.certification_request_info.subject_pki;
        check_key_kind(key_info)?;
        request.verify_signature().map_err(|error| {
            PkiError::InvalidRequest(format!("the CSR's signature does not verify: {error}"))
        })?;
        let public_key = SubjectPublicKeyInfo::from_der(key_info.raw)
            .map_err(|error| PkiError::InvalidRequest(format!("its public key: {error}")))?;
        Ok(Self { public_key })
    }

    /// The key, for signing.
    pub fn public_key(&self) -> &SubjectPublicKeyInfo {
        &self.public_key
    }
}

/// Accepts ECDSA P-256, ECDSA P-384 and Ed25519 keys; names anything else.
fn check_key_kind(key_info: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> Result<(), PkiError> {
    let algorithm = &key_info.algorithm.algorithm;
    if *algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = key_info
            .algorithm
            .parameters
            .as_ref()
            .and_then(|parameters| parameters.as_oid().ok());
        return match curve {
            Some(curve) if curve == OID_EC_P256 || curve == OID_NIST_EC_P384 => Ok(()),
            Some(curve) if curve == OID_NIST_EC_P521 => {
                Err(PkiError::UnsupportedKey("ECDSA P-521".to_owned()))
            }
            Some(curve) => Err(PkiError::UnsupportedKey(format!(
                "ECDSA on the curve {curve}"
            ))),
            None => Err(PkiError::UnsupportedKey(
                "ECDSA without a named curve".to_owned(),
            )),
        };
    }
    if *algorithm == OID_SIG_ED25519 {
        return Ok(());
    }
    let name = if *algorithm == OID_PKCS1_RSAENCRYPTION {
        "RSA".to_owned()
    } else if *algorithm == OID_PKCS1_RSASSAPSS {
        "RSA-PSS".to_owned()
    } else if *algorithm == OID_SIG_ED448 {
        "Ed448".to_owned()
    } else {
        format!("of the algorithm {algorithm}")
    };
    Err(PkiError::UnsupportedKey(name))
}
