//! Deployments, StatefulSets, DaemonSets and ReplicaSets: replicas become
//! ready after the rollout delay; a container whose image tag contains
//! `fail` never does, and Deployments then report `ProgressDeadlineExceeded`.

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Map, Value, json};

use super::conditions::{Condition, render};
use super::{Decision, Progress, failing_container};

fn replicas(object: &Value) -> i64 {
    object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn generation(object: &Value) -> i64 {
    object
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

/// A stable, pod-template-hash-like suffix for the template.
pub fn template_hash(object: &Value) -> String {
    let alphabet = b"bcdfghjklmnpqrstvwxz2456789";
    let mut hasher = DefaultHasher::new();
    object
        .pointer("/spec/template")
        .map(Value::to_string)
        .unwrap_or_default()
        .hash(&mut hasher);
    let mut value = hasher.finish();
    (0..10)
        .map(|_| {
            let character = alphabet[(value % alphabet.len() as u64) as usize] as char;
            value /= alphabet.len() as u64;
            character
        })
        .collect()
}

/// Adds the non-zero counters (real statuses omit zero counts).
fn counters(status: &mut Map<String, Value>, entries: &[(&str, i64)]) {
    for (field, value) in entries {
        if *value != 0 {
            status.insert((*field).to_string(), json!(value));
        }
    }
}

fn failure_and_pending(object: &Value, progress: &Progress) -> (Option<(String, String)>, bool) {
    let failing = failing_container(object.pointer("/spec/template/spec"));
    let ready = failing.is_none() && progress.ready();
    (failing, ready)
}

fn recheck(failing: bool, progress: &Progress) -> Option<std::time::Duration> {
    if failing {
        progress.until_deadline()
    } else {
        progress.until_ready()
    }
}

/// Deployment status with Available and Progressing conditions.
pub fn deployment(object: &Value, progress: &Progress) -> Decision {
    let desired = replicas(object);
    let (failing, ready) = failure_and_pending(object, progress);
    let replica_set = format!(
        "{}-{}",
        object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or(""),
        template_hash(object)
    );
    let mut status = Map::new();
    status.insert("observedGeneration".into(), json!(generation(object)));
    let ready_count = if ready { desired } else { 0 };
    counters(
        &mut status,
        &[
            ("replicas", desired),
            ("updatedReplicas", desired),
            ("readyReplicas", ready_count),
            ("availableReplicas", ready_count),
            ("unavailableReplicas", desired - ready_count),
        ],
    );
    let available = Condition {
        condition_type: "Available",
        status: ready || desired == 0,
        reason: if ready || desired == 0 {
            "MinimumReplicasAvailable"
        } else {
            "MinimumReplicasUnavailable"
        },
        message: if ready || desired == 0 {
            "Deployment has minimum availability.".to_string()
        } else {
            "Deployment does not have minimum availability.".to_string()
        },
    };
    let progressing = match (&failing, ready) {
        (_, true) => Condition {
            condition_type: "Progressing",
            status: true,
            reason: "NewReplicaSetAvailable",
            message: format!("ReplicaSet \"{replica_set}\" has successfully progressed."),
        },
        (Some((container, image)), false) if progress.deadline_exceeded() => Condition {
            condition_type: "Progressing",
            status: false,
            reason: "ProgressDeadlineExceeded",
            message: format!(
                "ReplicaSet \"{replica_set}\" has timed out progressing: container \"{container}\" with image \"{image}\" never became ready (fleet-sim simulates images whose tag contains \"fail\" as failing)"
            ),
        },
        _ => Condition {
            condition_type: "Progressing",
            status: true,
            reason: "ReplicaSetUpdated",
            message: format!("ReplicaSet \"{replica_set}\" is progressing."),
        },
    };
    let existing = object.get("status");
    status.insert(
        "conditions".into(),
        render(existing, &[available, progressing], true),
    );
    Decision {
        status: Some(Value::Object(status)),
        recheck_after: recheck(failing.is_some(), progress),
    }
}

/// StatefulSet status (no conditions, like the real controller).
pub fn stateful_set(object: &Value, progress: &Progress) -> Decision {
    let desired = replicas(object);
    let (failing, ready) = failure_and_pending(object, progress);
    let revision = format!(
        "{}-{}",
        object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or(""),
        template_hash(object)
    );
    let ready_count = if ready { desired } else { 0 };
    let mut status = Map::new();
    status.insert("observedGeneration".into(), json!(generation(object)));
    status.insert("replicas".into(), json!(desired));
    counters(
        &mut status,
        &[
            ("readyReplicas", ready_count),
            ("currentReplicas", desired),
            ("updatedReplicas", desired),
            ("availableReplicas", ready_count),
        ],
    );
    status.insert("currentRevision".into(), json!(revision));
    status.insert("updateRevision".into(), json!(revision));
    status.insert("collisionCount".into(), json!(0));
    Decision {
        status: Some(Value::Object(status)),
        recheck_after: recheck(failing.is_some(), progress),
    }
}

/// DaemonSet status, as if the simulated cluster had one node.
pub fn daemon_set(object: &Value, progress: &Progress) -> Decision {
    let (failing, ready) = failure_and_pending(object, progress);
    let ready_count = i64::from(ready);
    let mut status = Map::new();
    status.insert("currentNumberScheduled".into(), json!(1));
    status.insert("desiredNumberScheduled".into(), json!(1));
    status.insert("numberMisscheduled".into(), json!(0));
    status.insert("numberReady".into(), json!(ready_count));
    status.insert("observedGeneration".into(), json!(generation(object)));
    counters(
        &mut status,
        &[
            ("updatedNumberScheduled", 1),
            ("numberAvailable", ready_count),
            ("numberUnavailable", 1 - ready_count),
        ],
    );
    Decision {
        status: Some(Value::Object(status)),
        recheck_after: recheck(failing.is_some(), progress),
    }
}

/// ReplicaSet status.
pub fn replica_set(object: &Value, progress: &Progress) -> Decision {
    let desired = replicas(object);
    let (failing, ready) = failure_and_pending(object, progress);
    let ready_count = if ready { desired } else { 0 };
    let mut status = Map::new();
    status.insert("replicas".into(), json!(desired));
    counters(
        &mut status,
        &[
            ("fullyLabeledReplicas", desired),
            ("readyReplicas", ready_count),
            ("availableReplicas", ready_count),
        ],
    );
    status.insert("observedGeneration".into(), json!(generation(object)));
    Decision {
        status: Some(Value::Object(status)),
        recheck_after: recheck(failing.is_some(), progress),
    }
}
