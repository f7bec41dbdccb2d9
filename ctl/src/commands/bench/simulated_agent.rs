//! One simulated agent for the scale benchmarks: the real agent's protocol
//! code (enrollment, the mTLS session with its backoff and endpoint list,
//! the inbound/outbound sides) without its Kubernetes apply code.
//!
//! It holds a desired state the moment the hub sends it, and reports that
//! state applied after a configurable delay — Healthy, or Degraded when an
//! image tag contains `fail` (what `fleet-sim` does with such a Deployment).

use std::sync::Arc;
use std::time::Duration;

use fleet_agent::connection::Connection;
use fleet_agent::enroll::{Credentials, request_certificate};
use fleet_agent::inbound::Inbound;
use fleet_agent::metrics::Metrics;
use fleet_agent::outbound::Outbound;
use fleet_proto::{AppStatus, DesiredState, Health, StatusReport};
use tokio::task::JoinHandle;

use super::receipts::Receipts;

/// How simulated agents behave.
#[derive(Debug, Clone, Copy)]
pub struct Behaviour {
    /// From receiving a desired state to reporting it applied.
    pub apply_delay: Duration,
}

/// An enrolled simulated agent (its identity and last report survive restarts).
pub struct SimulatedAgent {
    cluster: String,
    credentials: Credentials,
    outbound: Outbound,
}

/// A simulated agent's running tasks; dropping it kills the agent (its
/// session ends as if the cluster lost its network or the pod died).
pub struct RunningAgent {
    tasks: [JoinHandle<()>; 2],
}

impl Drop for RunningAgent {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl SimulatedAgent {
    /// Enrolls `cluster` with `token` through the hub's real `Enroll` call.
    pub async fn enroll(
        endpoints: &[String],
        ca_pem: &str,
        cluster: &str,
        token: &str,
    ) -> anyhow::Result<Self> {
        let enrolled = request_certificate(endpoints, ca_pem, cluster, token)
            .await
            .map_err(|error| anyhow::anyhow!("enrolling {cluster}: {error}"))?;
        Ok(Self {
            cluster: cluster.to_owned(),
            credentials: enrolled.credentials,
            outbound: Outbound::new(),
        })
    }

    /// The cluster it speaks for.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// Opens its session (reconnecting as the real agent does) and answers
    /// every desired state; receipts go to `receipts`.
    pub fn start(
        &self,
        behaviour: Behaviour,
        receipts: Arc<Receipts>,
        metrics: &Metrics,
    ) -> RunningAgent {
        let inbound = Inbound::uncached(&self.cluster);
        let mut desired = inbound.subscribe();
        let connection = Connection::new(
            &self.cluster,
            self.credentials.clone(),
            inbound,
            self.outbound.clone(),
            metrics.clone(),
        );
        let outbound = self.outbound.clone();
        let cluster = self.cluster.clone();
        let responder = async move {
            while desired.changed().await.is_ok() {
                let Some(state) = desired.borrow_and_update().clone() else {
                    continue;
                };
                receipts.received(&cluster, &state.revision);
                if !behaviour.apply_delay.is_zero() {
                    tokio::time::sleep(behaviour.apply_delay).await;
                }
                outbound.report_status(applied(&state));
            }
        };
        RunningAgent {
            tasks: [tokio::spawn(connection.run()), tokio::spawn(responder)],
        }
    }
}

/// The report of `state` applied: Degraded where an image tag contains `fail`.
fn applied(state: &DesiredState) -> StatusReport {
    let apps: Vec<AppStatus> = state
        .apps
        .iter()
        .map(|app| {
            let failing = app
                .objects
                .iter()
                .any(|object| image_tags(&object.json).any(|tag| tag.contains("fail")));
            AppStatus {
                app: app.app.clone(),
                digest: app.digest.clone(),
                health: if failing {
                    Health::Degraded
                } else {
                    Health::Healthy
                } as i32,
                message: if failing {
                    "simulated: an image tag contains 'fail', the workload never becomes available"
                        .to_owned()
                } else {
                    String::new()
                },
                drift_count: 0,
            }
        })
        .collect();
    let degraded = apps.iter().any(|app| app.health == Health::Degraded as i32);
    StatusReport {
        applied_revision: state.revision.clone(),
        applied_digest: state.digest.clone(),
        health: if degraded {
            Health::Degraded
        } else {
            Health::Healthy
        } as i32,
        message: apps
            .iter()
            .filter(|app| !app.message.is_empty())
            .map(|app| format!("{}: {}", app.app, app.message))
            .collect::<Vec<_>>()
            .join(" | "),
        apps,
    }
}

/// The tags of the `"image"` fields in an object's canonical JSON.
fn image_tags(json: &str) -> impl Iterator<Item = &str> {
    json.split("\"image\":\"").skip(1).filter_map(|rest| {
        let image = rest.split('"').next()?;
        let name = image.rsplit('/').next()?;
        name.split_once(':').map(|(_, tag)| tag)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleet_proto::{AppDesiredState, Manifest};

    fn state(image: &str) -> DesiredState {
        DesiredState {
            cluster: "c".into(),
            revision: "r".into(),
            digest: "d".into(),
            apps: vec![AppDesiredState {
                app: "web".into(),
                digest: "a".into(),
                objects: vec![Manifest {
                    digest: "o".into(),
                    json: format!(
                        r#"{{"kind":"Deployment","spec":{{"template":{{"spec":{{"containers":[{{"image":"{image}","name":"app"}}]}}}}}}}}"#
                    ),
                }],
                ..AppDesiredState::default()
            }],
        }
    }

    #[test]
    fn an_image_tagged_fail_reports_degraded() {
        let report = applied(&state("registry:5000/team/web:1.2-fail"));
        assert_eq!(report.health, Health::Degraded as i32);
        assert!(report.message.contains("web:"));
        assert_eq!(report.applied_digest, "d");
    }

    #[test]
    fn a_registry_port_is_not_a_tag() {
        let report = applied(&state("failover-registry:5000/team/web"));
        assert_eq!(report.health, Health::Healthy as i32);
        let report = applied(&state("registry.example.com/web:1.0.3"));
        assert_eq!(report.health, Health::Healthy as i32);
        assert_eq!(report.apps[0].digest, "a");
    }
}
