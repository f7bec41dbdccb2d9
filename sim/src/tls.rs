//! The serving certificate: a CA generated at start (its PEM goes into the
//! kubeconfig as `certificate-authority-data`) and a server certificate it
//! signs for `127.0.0.1`, `::1` and `localhost`, valid for a year.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, date_time_ymd,
};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::clock::{UtcDateTime, unix_seconds_now};

/// Failures building the certificate or TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Key or certificate generation failed.
    #[error("could not generate the simulator's certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("could not build the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// A generated CA and the TLS configuration serving with it.
#[derive(Debug, Clone)]
pub struct ServingCertificate {
    /// The CA certificate (PEM) clients should trust.
    pub ca_pem: String,
    /// The rustls server configuration (ALPN h2 and http/1.1).
    pub server_config: Arc<ServerConfig>,
}

fn validity(params: &mut CertificateParams) {
    let now = unix_seconds_now();
    let start = UtcDateTime::from_unix_seconds(now - 86_400);
    let end = UtcDateTime::from_unix_seconds(now + 365 * 86_400);
    params.not_before = date_time_ymd(start.year as i32, start.month as u8, start.day as u8);
    params.not_after = date_time_ymd(end.year as i32, end.month as u8, end.day as u8);
}

/// Generates a CA and a serving certificate for `name`.
pub fn generate(name: &str) -> Result<ServingCertificate, TlsError> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    let mut ca_name = DistinguishedName::new();
    ca_name.push(
        DnType::CommonName,
        format!("fleet-sim CA ({name}) — test only"),
    );
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut ca_params);
    let ca_certificate = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate()?;
    let mut server_params = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])?;
    let mut server_name = DistinguishedName::new();
    server_name.push(DnType::CommonName, "fleet-sim apiserver");
    server_params.distinguished_name = server_name;
    server_params.is_ca = IsCa::ExplicitNoCa;
    server_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut server_params);
    let server_certificate = server_params.signed_by(&server_key, &issuer)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server_config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![
                server_certificate.der().clone(),
                ca_certificate.der().clone(),
            ],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )?;
    server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(ServingCertificate {
        ca_pem: ca_certificate.pem(),
        server_config: Arc::new(server_config),
    })
}
