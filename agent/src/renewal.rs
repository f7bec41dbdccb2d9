//! Certificate renewal: before the agent's certificate expires, a new key
//! pair is generated here, its CSR is sent to the hub's `Renew` call over
//! mTLS with the current certificate, and the new identity is kept where
//! enrollment keeps it ([`enroll::keep`]: state directory, identity Secret)
//! and published to the [`crate::connection::Connection`], which reconnects
//! with it at once.
//!
//! **Decision — when.** Renewal starts once a third of the certificate's
//! lifetime is left (day 20 of the default 30 days), measured from when the
//! hub signed it (`issuedAtMs`, since the certificate's notBefore is
//! backdated for clock skew) to its notAfter. That leaves a third of the
//! lifetime — ten days by default — to ride out a hub outage, retrying with
//! backoff (1 s doubling to 5 min). The previous certificate stays valid
//! until it expires, so a renewal whose answer is lost costs nothing.

use std::path::PathBuf;
use std::time::Duration;

use fleet_proto::RenewRequest;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use tokio::sync::watch;
use tonic::transport::{Certificate, ClientTlsConfig, Identity};
use tracing::{Instrument, error, info, info_span, warn};

use crate::config::Config;
use crate::connection::Backoff;
use crate::enroll::{self, Credentials, EnrollError, Enrolled};
use crate::hub_call::{HubCallError, first_answer};

/// First retry delay after a failed renewal.
const RETRY_INITIAL: Duration = Duration::from_secs(1);
/// Longest retry delay.
const RETRY_MAX: Duration = Duration::from_secs(300);
/// Longest single sleep while waiting for the renewal time: the wall clock
/// is read again after each, so a suspended host or a clock change does not
/// make the agent miss it.
const LONGEST_SLEEP: Duration = Duration::from_secs(600);

/// Why one renewal attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum RenewalError {
    /// The new key or CSR could not be generated.
    #[error(transparent)]
    Key(#[from] EnrollError),
    /// No hub endpoint could be reached.
    #[error("no hub endpoint answered; last: {0}")]
    Unreachable(String),
    /// A hub refused the renewal.
    #[error("hub {endpoint} refused the renewal ({code:?}): {message}")]
    Refused {
        /// The endpoint.
        endpoint: String,
        /// The gRPC status code.
        code: tonic::Code,
        /// What the hub said.
        message: String,
    },
}

/// Result of this module.
pub type Result<T, E = RenewalError> = std::result::Result<T, E>;

/// When a certificate was issued and expires (ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// When the hub signed it.
    pub issued_at_ms: u64,
    /// Its notAfter.
    pub expires_at_ms: u64,
}

impl Lifetime {
    /// The lifetime of `credentials`: the hub's signing time and expiry as
    /// recorded at enrollment, else the certificate's own notBefore and
    /// notAfter (an identity enrolled by an older agent).
    pub fn of(credentials: &Credentials) -> Option<Self> {
        let certificate = CertificateFacts::read(&credentials.certificate_pem)
            .map(|facts| (facts.not_before_ms, facts.not_after_ms));
        let issued_at_ms = match (credentials.issued_at_ms, certificate) {
            (0, Some((not_before, _))) => not_before,
            (0, None) => return None,
            (issued, _) => issued,
        };
        let expires_at_ms = match certificate {
            Some((_, not_after)) => not_after,
            None if credentials.expires_at_ms > 0 => credentials.expires_at_ms,
            None => return None,
        };
        Some(Self {
            issued_at_ms,
            expires_at_ms,
        })
    }

    /// When to renew: once a third of the lifetime is left.
    pub fn renew_at_ms(&self) -> u64 {
        let lifetime = self.expires_at_ms.saturating_sub(self.issued_at_ms);
        self.issued_at_ms + lifetime - lifetime / 3
    }
}

/// The renewal task and the identity it publishes.
pub struct Renewal {
    cluster: String,
    configured_endpoints: Vec<String>,
    state_dir: PathBuf,
    secrets: Option<Api<Secret>>,
    credentials: watch::Sender<Credentials>,
}

impl Renewal {
    /// Renews `credentials` for the agent of `config`, keeping the new ones
    /// in the state directory and in the identity Secret (`secrets`).
    pub fn new(config: &Config, credentials: Credentials, secrets: Option<Api<Secret>>) -> Self {
        Self {
            cluster: config.cluster.clone(),
            configured_endpoints: config.hub_endpoints.clone(),
            state_dir: config.state_dir.clone(),
            secrets,
            credentials: watch::Sender::new(credentials),
        }
    }

    /// Follows the current identity (a new value after each renewal).
    pub fn subscribe(&self) -> watch::Receiver<Credentials> {
        self.credentials.subscribe()
    }

    /// Renews the certificate whenever it is due, for as long as the
    /// process runs (it never returns).
    pub async fn run(self) {
        let span = info_span!("renewal", cluster = %self.cluster);
        async move {
            loop {
                let current = self.credentials.borrow().clone();
                let Some(lifetime) = Lifetime::of(&current) else {
                    // The session may still work until the certificate
                    // expires: keep the agent running.
                    error!("cannot read the agent certificate's validity: it will not be renewed");
                    return std::future::pending().await;
                };
                let renew_at_ms = lifetime.renew_at_ms();
                info!(
                    renew_in_seconds = renew_at_ms.saturating_sub(now_ms()) / 1000,
                    expires_in_seconds = lifetime.expires_at_ms.saturating_sub(now_ms()) / 1000,
                    "certificate renewal scheduled"
                );
                sleep_until(renew_at_ms).await;
                let renewed = self.renew_with_retries(&current, lifetime).await;
                if let Err(error) =
                    enroll::keep(&self.state_dir, &renewed, self.secrets.as_ref()).await
                {
                    // The previous certificate, still on disk, stays valid
                    // until it expires: a restart falls back to it.
                    error!(%error, "cannot store the renewed certificate; using it until the agent restarts");
                }
                info!(
                    serial = %serial_of(&renewed.credentials.certificate_pem),
                    expires_in_seconds =
                        renewed.credentials.expires_at_ms.saturating_sub(now_ms()) / 1000,
                    "certificate renewed"
                );
                self.credentials.send_replace(renewed.credentials);
            }
        }
        .instrument(span)
        .await;
    }

    /// Renews `current`, retrying with backoff until a hub answers.
    async fn renew_with_retries(&self, current: &Credentials, lifetime: Lifetime) -> Enrolled {
        let mut backoff = Backoff::new(RETRY_INITIAL, RETRY_MAX);
        loop {
            match self.renew_once(current).await {
                Ok(renewed) => return renewed,
                Err(error) => {
                    let left_ms = lifetime.expires_at_ms.saturating_sub(now_ms());
                    if left_ms == 0 {
                        error!(
                            %error,
                            "the agent certificate expired before it could be renewed: reinstall the agent with a fresh bootstrap token (fleetctl token create)"
                        );
                    } else {
                        warn!(%error, seconds_left = left_ms / 1000, "certificate renewal failed; retrying");
                    }
                    // Never wait past a quarter of what is left, so the last
                    // chances before expiry are not slept through.
                    let delay = backoff
                        .next_delay()
                        .min(Duration::from_millis(left_ms / 4).max(RETRY_INITIAL));
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// One renewal: a new key, its CSR to the first hub endpoint that answers.
    async fn renew_once(&self, current: &Credentials) -> Result<Enrolled> {
        let (key, csr_pem) = enroll::key_and_request()?;
        let request = RenewRequest { csr_pem };
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&current.ca_pem))
            .identity(Identity::from_pem(
                &current.certificate_pem,
                &current.key_pem,
            ));
        let response = first_answer(&current.hub_endpoints, &tls, "renew", |mut client| {
            let request = request.clone();
            async move { client.renew(request).await }
        })
        .await
        .map_err(|error| match error {
            HubCallError::Unreachable(last) => RenewalError::Unreachable(last),
            HubCallError::Refused { endpoint, status } => RenewalError::Refused {
                endpoint,
                code: status.code(),
                message: status.message().to_owned(),
            },
        })?;
        Ok(enroll::enrolled_from(
            response,
            &key,
            &self.configured_endpoints,
            &current.ca_pem,
        ))
    }
}

/// Waits until the wall clock reads `at_ms`.
async fn sleep_until(at_ms: u64) {
    loop {
        let left_ms = at_ms.saturating_sub(now_ms());
        if left_ms == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(left_ms).min(LONGEST_SLEEP)).await;
    }
}

/// What renewal reads from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CertificateFacts {
    /// Serial number in lowercase hex (as the hub records it).
    serial: String,
    /// notBefore (ms since the epoch).
    not_before_ms: u64,
    /// notAfter (ms since the epoch).
    not_after_ms: u64,
}

impl CertificateFacts {
    /// Reads a PEM certificate; `None` if it is not one.
    fn read(certificate_pem: &str) -> Option<Self> {
        let (_, pem) = x509_parser::pem::parse_x509_pem(certificate_pem.as_bytes()).ok()?;
        let certificate = pem.parse_x509().ok()?;
        let validity = certificate.validity();
        Some(Self {
            serial: certificate
                .raw_serial()
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect(),
            not_before_ms: unix_ms(validity.not_before.timestamp()),
            not_after_ms: unix_ms(validity.not_after.timestamp()),
        })
    }
}

/// The certificate's serial number (empty if it cannot be read).
fn serial_of(certificate_pem: &str) -> String {
    CertificateFacts::read(certificate_pem)
        .map(|facts| facts.serial)
        .unwrap_or_default()
}

fn unix_ms(seconds: i64) -> u64 {
    u64::try_from(seconds).unwrap_or(0).saturating_mul(1000)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(certificate_pem: String, issued_at_ms: u64, expires_at_ms: u64) -> Credentials {
        Credentials {
            certificate_pem,
            key_pem: String::new(),
            ca_pem: String::new(),
            hub_endpoints: Vec::new(),
            expires_at_ms,
            issued_at_ms,
        }
    }

    /// A self-signed certificate valid from `not_before` to `not_after` (Unix seconds).
    fn certificate(not_before: u64, not_after: u64) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["agent".to_owned()]).unwrap();
        params.not_before = rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs(not_before);
        params.not_after = rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs(not_after);
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn renews_once_a_third_of_the_lifetime_is_left() {
        let lifetime = Lifetime {
            issued_at_ms: 1_000,
            expires_at_ms: 31_000,
        };
        assert_eq!(lifetime.renew_at_ms(), 21_000);
        let thirty_days = Lifetime {
            issued_at_ms: 0,
            expires_at_ms: 30 * 86_400_000,
        };
        assert_eq!(thirty_days.renew_at_ms(), 20 * 86_400_000);
    }

    #[test]
    fn the_hubs_signing_time_wins_over_the_backdated_not_before() {
        // Backdated by an hour, valid for 30 s after signing at t = 3600 s.
        let pem = certificate(0, 3630);
        let recorded = Lifetime::of(&credentials(pem.clone(), 3_600_000, 3_630_000)).unwrap();
        assert_eq!(recorded.renew_at_ms(), 3_620_000);
        // Enrolled by an older agent: only the certificate's dates are known.
        let unrecorded = Lifetime::of(&credentials(pem, 0, 0)).unwrap();
        assert_eq!(unrecorded.issued_at_ms, 0);
        assert_eq!(unrecorded.expires_at_ms, 3_630_000);
        assert!(Lifetime::of(&credentials("not a certificate".into(), 0, 5)).is_none());
    }

    #[test]
    fn serials_print_as_the_hub_records_them() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["agent".to_owned()]).unwrap();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x01, 0xab, 0x0c]));
        let pem = params.self_signed(&key).unwrap().pem();
        assert_eq!(serial_of(&pem), "01ab0c");
    }
}
