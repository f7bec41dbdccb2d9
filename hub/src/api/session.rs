//! One agent's session: hello, then desired state down whenever the
//! cluster's target changes (woken by the [`super::targets::TargetBoard`],
//! not by every Raft write), status up (written to Raft only on change, in
//! batches by the [`super::status_batcher::StatusBatcher`]).

use std::time::Duration;

use fleet_proto::{AgentMessage, DesiredState, HubMessage, agent_message, hub_message};
use tokio::sync::mpsc;
use tonic::{Code, Status, Streaming};
use tracing::{Instrument, debug, info, info_span, warn};

use super::context::ApiContext;
use super::report_limits::{
    MAX_DRIFT_EVENTS_LOGGED, MAX_DRIFT_NAME_BYTES, MAX_LOGGED_NAME_BYTES, capped_text,
};
use super::status::cluster_status;
use super::targets::ClusterTarget;

type Outbound = mpsc::Sender<Result<HubMessage, Status>>;

/// Runs a session until the agent goes away or is revoked.
pub async fn run_session(
    context: ApiContext,
    cluster: String,
    serial: String,
    inbound: Streaming<AgentMessage>,
    outbound: Outbound,
    hello_timeout: Duration,
) {
    let span = info_span!("session", cluster = %cluster, serial = %serial);
    async move {
        context.sessions.opened(&cluster);
        context.metrics.sessions.inc();
        let number = context.presence.opened(&cluster).await;
        let outcome = serve(&context, &cluster, inbound, &outbound, hello_timeout).await;
        if let Err(status) = outcome {
            debug!(%status, "session ends with an error");
            let _ = outbound.send(Err(status)).await;
        }
        context.presence.closed(&cluster, number).await;
        context.sessions.closed(&cluster);
        context.metrics.sessions.dec();
        info!("session closed");
    }
    .instrument(span)
    .await;
}

async fn serve(
    context: &ApiContext,
    cluster: &str,
    mut inbound: Streaming<AgentMessage>,
    outbound: &Outbound,
    hello_timeout: Duration,
) -> Result<(), Status> {
    let first = tokio::time::timeout(hello_timeout, inbound.message())
        .await
        .map_err(|_| Status::deadline_exceeded("no hello from the agent"))??;
    let Some(AgentMessage {
        kind: Some(agent_message::Kind::Hello(hello)),
    }) = first
    else {
        return Err(Status::invalid_argument(
            "the first message of a session must be a hello",
        ));
    };
    if hello.cluster != cluster {
        return Err(Status::permission_denied(format!(
            "this certificate speaks for cluster '{cluster}', not '{}'",
            hello.cluster
        )));
    }
    info!(applied_revision = %hello.applied_revision, "session open");
    let mut sent_digest = hello.applied_digest;
    let mut target = context.targets.watch(cluster);
    let closing = context.sessions.closing();
    tokio::pin!(closing);
    loop {
        if context.sessions.is_closing() {
            return send_elsewhere(outbound).await;
        }
        let current = target.borrow_and_update().clone();
        if current.revoked {
            let _ = outbound
                .send(Ok(HubMessage {
                    kind: Some(hub_message::Kind::Goodbye(format!(
                        "cluster '{cluster}' has been revoked"
                    ))),
                }))
                .await;
            return Err(Status::permission_denied(format!(
                "cluster '{cluster}' has been revoked"
            )));
        }
        send_target(context, cluster, &current, &mut sent_digest, outbound).await?;
        tokio::select! {
            () = &mut closing => return send_elsewhere(outbound).await,
            changed = target.changed() => {
                if changed.is_err() {
                    return Err(Status::unavailable("the hub is shutting down"));
                }
            }
            message = inbound.message() => {
                match message {
                    Ok(Some(message)) => receive(context, cluster, message).await?,
                    Ok(None) => return Ok(()),
                    Err(status) => {
                        debug!(%status, "agent stream failed");
                        return Err(stream_error(&status));
                    }
                }
            }
        }
    }
}

/// The node stops: tell the agent to reconnect to another hub node at once,
/// and end the session (its stream completes, so the server can stop).
async fn send_elsewhere(outbound: &Outbound) -> Result<(), Status> {
    info!("hub node stopping: the agent is sent to another node");
    let _ = outbound
        .send(Ok(HubMessage {
            kind: Some(hub_message::Kind::ReconnectElsewhere(
                "this hub node is stopping".to_owned(),
            )),
        }))
        .await;
    Ok(())
}

/// The status a session ends with when reading the agent's stream failed:
/// never OK. An oversized message is RESOURCE_EXHAUSTED, one that does not
/// decode INVALID_ARGUMENT; a stream the agent reset keeps its own code.
fn stream_error(status: &Status) -> Status {
    match status.code() {
        Code::OutOfRange | Code::ResourceExhausted => Status::resource_exhausted(format!(
            "the session ends: an agent message was too large: {}",
            status.message()
        )),
        Code::Internal | Code::InvalidArgument | Code::DataLoss => {
            Status::invalid_argument(format!(
                "the session ends: an agent message could not be decoded: {}",
                status.message()
            ))
        }
        _ => Status::new(
            status.code(),
            format!("the session ends: {}", status.message()),
        ),
    }
}

/// Pushes the cluster's desired state if its target changed since the last send.
async fn send_target(
    context: &ApiContext,
    cluster: &str,
    target: &ClusterTarget,
    sent_digest: &mut String,
    outbound: &Outbound,
) -> Result<(), Status> {
    if target.revision.is_empty() || target.digest == *sent_digest {
        return Ok(());
    }
    let desired = match context.desired.cached(cluster, &target.revision) {
        Some(desired) => desired,
        None => render(context, cluster, &target.revision).await?,
    };
    outbound
        .send(Ok(HubMessage {
            kind: Some(hub_message::Kind::Desired(desired)),
        }))
        .await
        .map_err(|_| Status::cancelled("the agent went away"))?;
    context.metrics.desired_states_sent.inc();
    info!(revision = %target.revision, digest = %target.digest, "desired state sent");
    sent_digest.clone_from(&target.digest);
    Ok(())
}

/// Renders a desired state off the async threads (see
/// [`ApiContext::render_blocking`]).
async fn render(
    context: &ApiContext,
    cluster: &str,
    revision: &str,
) -> Result<DesiredState, Status> {
    let (name, revision) = (cluster.to_owned(), revision.to_owned());
    context
        .render_blocking("rendering", move |cache| {
            cache.desired_state(&name, &revision)
        })
        .await?
        .map_err(|error| Status::internal(format!("{error:#}")))
}

/// Raises a `drift.reverted` event (counts only, no names or values) when
/// the report holds reverted drift and a target receives drift events.
async fn notify_reverted_drift(
    context: &ApiContext,
    cluster: &str,
    events: &[fleet_proto::DriftEvent],
) {
    let reverted = events.iter().filter(|event| event.reverted).count();
    let wanted = context.store.read(|state| {
        state
            .notifications
            .wants(crate::state::EventCategory::Drift)
    });
    if reverted == 0 || !wanted {
        return;
    }
    let apps: std::collections::BTreeSet<&str> = events
        .iter()
        .filter(|event| event.reverted)
        .map(|event| event.app.as_str())
        .collect();
    let event = crate::state::NotificationEvent {
        sequence: 0,
        kind: crate::state::notification_events::DRIFT_REVERTED.to_owned(),
        category: crate::state::EventCategory::Drift,
        rollout: None,
        revision: String::new(),
        wave: None,
        clusters: vec![cluster.to_owned()],
        message: format!(
            "cluster {cluster}: drift in {reverted} object(s) of {} app(s) reverted",
            apps.len()
        ),
        at_ms: crate::clock::now_ms(),
    };
    // Written like the drift history below it: the session reads its
    // agent's next message once the log has the event (a failure is logged,
    // the session goes on).
    if let Err(error) = context
        .store
        .write(crate::state::Command::RaiseNotification { event })
        .await
    {
        warn!(%error, "the drift notification could not be recorded");
    }
}

/// A drift report's events as kept in the cluster's history: its last
/// `kept` events, names cleaned and cut, no diff.
fn drift_records(
    events: &[fleet_proto::DriftEvent],
    kept: u32,
    at_ms: u64,
) -> Vec<crate::state::DriftRecord> {
    let name = |text: &str| capped_text(text, MAX_DRIFT_NAME_BYTES);
    let kept = usize::try_from(kept).unwrap_or(usize::MAX);
    events[events.len().saturating_sub(kept)..]
        .iter()
        .map(|event| {
            let object = event.object.clone().unwrap_or_default();
            crate::state::DriftRecord {
                at_ms,
                app: name(&event.app),
                group: name(&object.group),
                kind: name(&object.kind),
                namespace: name(&object.namespace),
                name: name(&object.name),
                reverted: event.reverted,
            }
        })
        .collect()
}

async fn receive(context: &ApiContext, cluster: &str, message: AgentMessage) -> Result<(), Status> {
    match message.kind {
        Some(agent_message::Kind::Status(report)) => {
            let status = cluster_status(&report);
            let unchanged = context.store.read(|state| {
                state
                    .clusters
                    .get(cluster)
                    .and_then(|record| record.status.as_ref())
                    == Some(&status)
            });
            if unchanged {
                return Ok(());
            }
            context
                .statuses
                .submit(cluster, status)
                .await
                .map_err(|error| {
                    Status::unavailable(format!("the hub could not record the status: {error}"))
                })?;
        }
        Some(agent_message::Kind::Drift(report)) => {
            // Drift is only logged (not stored): each event's names are
            // cleaned and cut, and a report logs at most a few events.
            let name = |text: &str| capped_text(text, MAX_LOGGED_NAME_BYTES);
            for event in report.events.iter().take(MAX_DRIFT_EVENTS_LOGGED) {
                let object = event.object.as_ref().map(|object| {
                    format!(
                        "{} {}/{}",
                        name(&object.kind),
                        name(&object.namespace),
                        name(&object.name)
                    )
                });
                warn!(app = %name(&event.app), object = ?object, reverted = event.reverted, "drift reported");
            }
            let more = report.events.len().saturating_sub(MAX_DRIFT_EVENTS_LOGGED);
            if more > 0 {
                warn!(
                    more,
                    "drift reported for more objects (not logged one by one)"
                );
            }
            notify_reverted_drift(context, cluster, &report.events).await;
            let events = drift_records(
                &report.events,
                context.config.dashboard.drift_history,
                crate::clock::now_ms(),
            );
            context
                .statuses
                .submit_drift(cluster, events)
                .await
                .map_err(|error| {
                    Status::unavailable(format!("the hub could not record the drift: {error}"))
                })?;
        }
        Some(agent_message::Kind::Hello(_)) => {
            return Err(Status::invalid_argument(
                "hello may only be the first message",
            ));
        }
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use fleet_proto::{DriftEvent, ObjectRef};

    use super::*;

    #[test]
    fn a_hostile_drift_report_keeps_its_last_events_with_cleaned_short_names_and_no_diff() {
        let events: Vec<DriftEvent> = (0..10_000)
            .map(|index| DriftEvent {
                app: format!("app-{index}"),
                object: Some(ObjectRef {
                    group: "\u{1}".repeat(100_000),
                    kind: "ConfigMap".into(),
                    namespace: "n".repeat(100_000),
                    name: format!("object-{index}"),
                }),
                diff: "secret value".repeat(1_000),
                reverted: index % 2 == 0,
            })
            .collect();
        let records = drift_records(&events, 50, 7);
        assert_eq!(records.len(), 50);
        assert_eq!(records[0].name, "object-9950", "the last events are kept");
        assert_eq!(records[49].name, "object-9999");
        for record in &records {
            assert!(record.group.len() <= MAX_DRIFT_NAME_BYTES);
            assert!(record.namespace.len() <= MAX_DRIFT_NAME_BYTES);
            assert!(!record.group.contains('\u{1}'));
            assert_eq!(record.at_ms, 7);
        }
        let json = serde_json::to_string(&records).unwrap();
        assert!(!json.contains("secret value"), "no diff is kept");
        assert!(json.len() < 50 * 1024, "{} bytes", json.len());
    }
}
