//! The session with the hub: one outbound mTLS gRPC stream at a time. The
//! agent dials the endpoints in turn and, after a failure, waits with
//! jittered exponential backoff before trying the next one. A session starts
//! with `Hello` (the applied revision and digest, so the hub can skip
//! resending unchanged state) and the current status, so the hub's view
//! catches up after an outage. When [`crate::renewal`] publishes a renewed
//! certificate, the open session ends and the next one, dialled at once to
//! the same endpoint, presents the new certificate. When a hub node stops it
//! says so (`reconnect_elsewhere`): the agent dials the next endpoint at
//! once, without backoff.

use std::time::Duration;

use fleet_proto::agent_service_client::AgentServiceClient;
use fleet_proto::{AgentMessage, DriftReport, Hello, StatusReport, agent_message, hub_message};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use tracing::{Instrument, info, info_span, warn};

use crate::enroll::Credentials;
use crate::inbound::{Inbound, InboundError};
use crate::metrics::Metrics;
use crate::outbound::Outbound;

/// First retry delay.
const BACKOFF_INITIAL: Duration = Duration::from_millis(250);
/// Longest retry delay.
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Why a session ended.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The endpoint or TLS settings are unusable.
    #[error("hub endpoint {endpoint}: {source}")]
    Endpoint {
        /// The endpoint.
        endpoint: String,
        /// Why.
        #[source]
        source: tonic::transport::Error,
    },
    /// The hub refused or broke the session.
    #[error("hub {endpoint}: {status}")]
    Stream {
        /// The endpoint.
        endpoint: String,
        /// What the hub (or transport) said.
        status: tonic::Status,
    },
    /// The hub said goodbye (e.g. the cluster was revoked).
    #[error("hub {endpoint} ended the session: {reason}")]
    Goodbye {
        /// The endpoint.
        endpoint: String,
        /// Its reason.
        reason: String,
    },
    /// The hub sent something unacceptable.
    #[error("hub {endpoint}: {source}")]
    Inbound {
        /// The endpoint.
        endpoint: String,
        /// What was wrong.
        #[source]
        source: InboundError,
    },
}

/// Exponential backoff with jitter: each delay is drawn from the upper half
/// of the current step, so many agents do not reconnect in lock-step.
#[derive(Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    step: Duration,
}

impl Default for Backoff {
    /// The reconnection backoff: 250 ms doubling up to 10 s.
    fn default() -> Self {
        Self::new(BACKOFF_INITIAL, BACKOFF_MAX)
    }
}

impl Backoff {
    /// Steps from `initial`, doubling up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            step: initial,
        }
    }

    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        let random = uuid::Uuid::new_v4().as_u128();
        let fraction = 0.5 + (random % 1000) as f64 / 2000.0;
        let delay = self.step.mul_f64(fraction);
        self.step = (self.step * 2).min(self.max);
        delay
    }

    /// Back to the first step (after a session that worked).
    pub fn reset(&mut self) {
        self.step = self.initial;
    }
}

/// How a session that had no error ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionEnd {
    /// The hub (or the local side) closed it.
    Closed,
    /// The certificate was renewed: reconnect with the new one now.
    Renewed,
    /// The hub node is stopping: reconnect to the next endpoint now.
    Elsewhere,
}

/// The agent's link to the hub.
pub struct Connection {
    cluster: String,
    credentials: watch::Receiver<Credentials>,
    inbound: Inbound,
    outbound: Outbound,
    metrics: Metrics,
}

impl Connection {
    /// A connection for `cluster` with a fixed identity.
    pub fn new(
        cluster: &str,
        credentials: Credentials,
        inbound: Inbound,
        outbound: Outbound,
        metrics: Metrics,
    ) -> Self {
        let (_fixed, credentials) = watch::channel(credentials);
        Self::following(cluster, credentials, inbound, outbound, metrics)
    }

    /// A connection for `cluster` that follows its renewed identities: each
    /// new value of `credentials` ends the open session, and the next one
    /// (dialled at once) presents it.
    pub fn following(
        cluster: &str,
        credentials: watch::Receiver<Credentials>,
        inbound: Inbound,
        outbound: Outbound,
        metrics: Metrics,
    ) -> Self {
        Self {
            cluster: cluster.to_owned(),
            credentials,
            inbound,
            outbound,
            metrics,
        }
    }

    /// Keeps a session open for as long as the process runs.
    pub async fn run(self) {
        let mut backoff = Backoff::default();
        let mut index = 0usize;
        loop {
            let mut renewals = self.credentials.clone();
            let credentials = renewals.borrow_and_update().clone();
            let endpoints = &credentials.hub_endpoints;
            let Some(endpoint) = endpoints.get(index % endpoints.len().max(1)).cloned() else {
                warn!("no hub endpoint to dial");
                return;
            };
            index = index.wrapping_add(1);
            let mut established = false;
            let outcome = self
                .session(&endpoint, &credentials, &mut renewals, &mut established)
                .instrument(info_span!("session", cluster = %self.cluster, hub = %endpoint))
                .await;
            self.metrics.connected.set(0);
            if established {
                backoff.reset();
            }
            if established && !matches!(outcome, Ok(SessionEnd::Elsewhere)) {
                // Stay with an endpoint that worked.
                index = index.wrapping_sub(1);
            }
            match outcome {
                Ok(SessionEnd::Renewed) => {
                    info!(hub = %endpoint, "reconnecting with the renewed certificate");
                    continue;
                }
                Ok(SessionEnd::Elsewhere) => {
                    info!(hub = %endpoint, "the hub node is stopping: reconnecting to the next endpoint now");
                    continue;
                }
                Ok(SessionEnd::Closed) => info!(hub = %endpoint, "the hub closed the session"),
                Err(error) => warn!(%error, "no session with the hub"),
            }
            let delay = backoff.next_delay();
            tokio::time::sleep(delay).await;
        }
    }

    async fn session(
        &self,
        endpoint: &str,
        credentials: &Credentials,
        renewals: &mut watch::Receiver<Credentials>,
        established: &mut bool,
    ) -> Result<SessionEnd, ConnectionError> {
        let endpoint_error = |source| ConnectionError::Endpoint {
            endpoint: endpoint.to_owned(),
            source,
        };
        let stream_error = |status| ConnectionError::Stream {
            endpoint: endpoint.to_owned(),
            status,
        };
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&credentials.ca_pem))
            .identity(Identity::from_pem(
                &credentials.certificate_pem,
                &credentials.key_pem,
            ));
        let channel = Endpoint::from_shared(endpoint.to_owned())
            .map_err(endpoint_error)?
            .tls_config(tls)
            .map_err(endpoint_error)?
            .connect_timeout(Duration::from_secs(10))
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(10))
            .keep_alive_while_idle(true)
            .connect()
            .await
            .map_err(endpoint_error)?;
        let mut client = AgentServiceClient::new(channel)
            .max_decoding_message_size(fleet_proto::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(fleet_proto::MAX_MESSAGE_BYTES);
        let (sender, receiver) = mpsc::channel::<AgentMessage>(64);
        let current = self.outbound.status();
        let hello = AgentMessage {
            kind: Some(agent_message::Kind::Hello(Hello {
                cluster: self.cluster.clone(),
                applied_revision: current.applied_revision.clone(),
                applied_digest: current.applied_digest.clone(),
                agent_version: env!("CARGO_PKG_VERSION").to_owned(),
            })),
        };
        if sender.send(hello).await.is_err() {
            return Ok(SessionEnd::Closed);
        }
        let mut messages = client
            .session(ReceiverStream::new(receiver))
            .await
            .map_err(stream_error)?
            .into_inner();
        *established = true;
        self.metrics.connected.set(1);
        info!("session open");
        let mut status = self.outbound.subscribe();
        status.mark_changed();
        let mut drift_pending = true;
        loop {
            if drift_pending {
                drift_pending = false;
                let events = self.outbound.take_drift();
                if !events.is_empty() {
                    let message = AgentMessage {
                        kind: Some(agent_message::Kind::Drift(DriftReport {
                            events: events.clone(),
                        })),
                    };
                    if sender.send(message).await.is_err() {
                        self.outbound.requeue_drift(events);
                        return Ok(SessionEnd::Closed);
                    }
                }
            }
            tokio::select! {
                message = messages.message() => {
                    match message.map_err(stream_error)? {
                        None => return Ok(SessionEnd::Closed),
                        Some(message) => match message.kind {
                            Some(hub_message::Kind::Desired(desired)) => {
                                self.inbound.accept(desired).map_err(|source| ConnectionError::Inbound {
                                    endpoint: endpoint.to_owned(),
                                    source,
                                })?;
                            }
                            Some(hub_message::Kind::Goodbye(reason)) => {
                                return Err(ConnectionError::Goodbye { endpoint: endpoint.to_owned(), reason });
                            }
                            Some(hub_message::Kind::ReconnectElsewhere(reason)) => {
                                info!(%reason, "the hub sends this agent to another node");
                                return Ok(SessionEnd::Elsewhere);
                            }
                            None => {}
                        },
                    }
                }
                changed = status.changed() => {
                    if changed.is_err() {
                        return Ok(SessionEnd::Closed);
                    }
                    let report: StatusReport = status.borrow_and_update().clone();
                    if report == StatusReport::default() {
                        continue;
                    }
                    let message = AgentMessage { kind: Some(agent_message::Kind::Status(report)) };
                    if sender.send(message).await.is_err() {
                        return Ok(SessionEnd::Closed);
                    }
                }
                () = self.outbound.drift_ready() => {
                    drift_pending = true;
                }
                () = renewed(renewals) => {
                    info!("the certificate was renewed: ending this session to reconnect with it");
                    return Ok(SessionEnd::Renewed);
                }
            }
        }
    }
}

/// Resolves when a renewed identity is published; never if none can be
/// (a connection with a fixed identity).
async fn renewed(renewals: &mut watch::Receiver<Credentials>) {
    if renewals.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_up_to_a_bound() {
        let mut backoff = Backoff::default();
        let first = backoff.next_delay();
        assert!(first >= BACKOFF_INITIAL / 2 && first <= BACKOFF_INITIAL);
        for _ in 0..20 {
            assert!(backoff.next_delay() <= BACKOFF_MAX);
        }
        backoff.reset();
        assert!(backoff.next_delay() <= BACKOFF_INITIAL);
    }
}
