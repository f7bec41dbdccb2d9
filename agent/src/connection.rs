//! The session with the hub: one outbound mTLS gRPC stream at a time. The
//! agent dials the endpoints in turn and, after a failure, waits with
//! jittered exponential backoff before trying the next one. A session starts
//! with `Hello` (the applied revision and digest, so the hub can skip
//! resending unchanged state) and the current status, so the hub's view
//! catches up after an outage.

use std::time::Duration;

use fleet_proto::agent_service_client::AgentServiceClient;
use fleet_proto::{AgentMessage, DriftReport, Hello, StatusReport, agent_message, hub_message};
use tokio::sync::mpsc;
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
    step: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            step: BACKOFF_INITIAL,
        }
    }
}

impl Backoff {
    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        let random = uuid::Uuid::new_v4().as_u128();
        let fraction = 0.5 + (random % 1000) as f64 / 2000.0;
        let delay = self.step.mul_f64(fraction);
        self.step = (self.step * 2).min(BACKOFF_MAX);
        delay
    }

    /// Back to the first step (after a session that worked).
    pub fn reset(&mut self) {
        self.step = BACKOFF_INITIAL;
    }
}

/// The agent's link to the hub.
pub struct Connection {
    cluster: String,
    credentials: Credentials,
    inbound: Inbound,
    outbound: Outbound,
    metrics: Metrics,
}

impl Connection {
    /// A connection for `cluster` with its identity.
    pub fn new(
        cluster: &str,
        credentials: Credentials,
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
        let endpoints = self.credentials.hub_endpoints.clone();
        let mut index = 0usize;
        loop {
            let Some(endpoint) = endpoints.get(index % endpoints.len().max(1)).cloned() else {
                warn!("no hub endpoint to dial");
                return;
            };
            index = index.wrapping_add(1);
            let mut established = false;
            let outcome = self
                .session(&endpoint, &mut established)
                .instrument(info_span!("session", cluster = %self.cluster, hub = %endpoint))
                .await;
            self.metrics.connected.set(0);
            if established {
                backoff.reset();
                // Stay with an endpoint that worked.
                index = index.wrapping_sub(1);
            }
            match outcome {
                Ok(()) => info!(hub = %endpoint, "the hub closed the session"),
                Err(error) => warn!(%error, "no session with the hub"),
            }
            let delay = backoff.next_delay();
            tokio::time::sleep(delay).await;
        }
    }

    async fn session(&self, endpoint: &str, established: &mut bool) -> Result<(), ConnectionError> {
        let endpoint_error = |source| ConnectionError::Endpoint {
            endpoint: endpoint.to_owned(),
            source,
        };
        let stream_error = |status| ConnectionError::Stream {
            endpoint: endpoint.to_owned(),
            status,
        };
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.credentials.ca_pem))
            .identity(Identity::from_pem(
                &self.credentials.certificate_pem,
                &self.credentials.key_pem,
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
            return Ok(());
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
                        return Ok(());
                    }
                }
            }
            tokio::select! {
                message = messages.message() => {
                    match message.map_err(stream_error)? {
                        None => return Ok(()),
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
                            None => {}
                        },
                    }
                }
                changed = status.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    let report: StatusReport = status.borrow_and_update().clone();
                    if report == StatusReport::default() {
                        continue;
                    }
                    let message = AgentMessage { kind: Some(agent_message::Kind::Status(report)) };
                    if sender.send(message).await.is_err() {
                        return Ok(());
                    }
                }
                () = self.outbound.drift_ready() => {
                    drift_pending = true;
                }
            }
        }
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
