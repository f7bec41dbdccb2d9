//! Jobs complete after the rollout delay (or fail after the progress
//! deadline with a `fail` image); standalone Pods start Running.

use serde_json::{Map, Value, json};

use super::conditions::{Condition, render};
use super::{Decision, Progress, failing_container};
use crate::clock::now_rfc3339;

fn keep_or_now(existing: Option<&Value>, field: &str) -> Value {
    existing
        .and_then(|status| status.get(field))
        .cloned()
        .unwrap_or_else(|| json!(now_rfc3339()))
}

/// Job status: active, then succeeded with Complete (or Failed).
pub fn job(object: &Value, progress: &Progress) -> Decision {
    let existing = object.get("status");
    let completions = object
        .pointer("/spec/completions")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let parallelism = object
        .pointer("/spec/parallelism")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let failing = failing_container(object.pointer("/spec/template/spec"));
    let mut status = Map::new();
    status.insert("startTime".into(), keep_or_now(existing, "startTime"));
    let recheck_after = match &failing {
        Some((container, image)) if progress.deadline_exceeded() => {
            status.insert("failed".into(), json!(1));
            status.insert(
                "conditions".into(),
                render(
                    existing,
                    &[
                        Condition {
                            condition_type: "FailureTarget",
                            status: true,
                            reason: "BackoffLimitExceeded",
                            message: "Job has reached the specified backoff limit".to_string(),
                        },
                        Condition {
                            condition_type: "Failed",
                            status: true,
                            reason: "BackoffLimitExceeded",
                            message: format!(
                                "Job has reached the specified backoff limit: container \"{container}\" with image \"{image}\" failed (fleet-sim simulates images whose tag contains \"fail\" as failing)"
                            ),
                        },
                    ],
                    false,
                ),
            );
            None
        }
        None if progress.ready() => {
            status.insert(
                "completionTime".into(),
                keep_or_now(existing, "completionTime"),
            );
            status.insert("succeeded".into(), json!(completions));
            status.insert("ready".into(), json!(0));
            status.insert(
                "conditions".into(),
                render(
                    existing,
                    &[
                        Condition {
                            condition_type: "SuccessCriteriaMet",
                            status: true,
                            reason: "CompletionsReached",
                            message: "Reached expected number of succeeded pods".to_string(),
                        },
                        Condition {
                            condition_type: "Complete",
                            status: true,
                            reason: "CompletionsReached",
                            message: "Reached expected number of succeeded pods".to_string(),
                        },
                    ],
                    false,
                ),
            );
            None
        }
        _ => {
            status.insert("active".into(), json!(parallelism.min(completions)));
            status.insert("ready".into(), json!(0));
            if failing.is_some() {
                progress.until_deadline()
            } else {
                progress.until_ready()
            }
        }
    };
    Decision {
        status: Some(Value::Object(status)),
        recheck_after,
    }
}

/// Pod status: Pending, then Running and Ready; a `fail` image stays
/// Pending with `ImagePullBackOff`.
pub fn pod(object: &Value, progress: &Progress) -> Decision {
    let existing = object.get("status");
    let failing = failing_container(object.get("spec"));
    let ready = failing.is_none() && progress.ready();
    let owned_by_job = object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|references| {
            references
                .iter()
                .any(|reference| reference.get("kind").and_then(Value::as_str) == Some("Job"))
        });
    if owned_by_job && ready {
        return Decision {
            status: Some(json!({
                "phase": "Succeeded",
                "hostIP": "10.0.0.1",
                "podIP": "10.244.0.10",
                "startTime": keep_or_now(existing, "startTime"),
                "containerStatuses": object.pointer("/spec/containers").and_then(Value::as_array).map(|containers| containers.iter().map(|container| json!({
                    "name": container.get("name").cloned().unwrap_or(Value::Null),
                    "image": container.get("image").cloned().unwrap_or(Value::Null),
                    "ready": false, "restartCount": 0, "started": false,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}
                })).collect::<Vec<_>>()).unwrap_or_default(),
            })),
            recheck_after: None,
        };
    }
    let containers = object
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let container_statuses: Vec<Value> = containers
        .iter()
        .map(|container| {
            let name = container.get("name").cloned().unwrap_or(Value::Null);
            let image = container.get("image").cloned().unwrap_or(Value::Null);
            let state = if ready {
                json!({"running": {"startedAt": keep_or_now(existing, "startTime")}})
            } else if failing.as_ref().is_some_and(|(failing_name, _)| Some(failing_name.as_str()) == name.as_str()) {
                json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image {image} (fleet-sim simulates images whose tag contains \"fail\" as failing)")}})
            } else {
                json!({"waiting": {"reason": "ContainerCreating"}})
            };
            json!({"name": name, "image": image, "ready": ready, "restartCount": 0, "started": ready, "state": state})
        })
        .collect();
    let conditions = render(
        existing,
        &[
            Condition {
                condition_type: "PodScheduled",
                status: true,
                reason: "Scheduled",
                message: String::new(),
            },
            Condition {
                condition_type: "Ready",
                status: ready,
                reason: if ready {
                    "PodReady"
                } else {
                    "ContainersNotReady"
                },
                message: String::new(),
            },
        ],
        false,
    );
    let status = json!({
        "phase": if ready { "Running" } else { "Pending" },
        "conditions": conditions,
        "hostIP": "10.0.0.1",
        "podIP": "10.244.0.10",
        "startTime": keep_or_now(existing, "startTime"),
        "containerStatuses": container_statuses,
    });
    Decision {
        status: Some(status),
        recheck_after: if failing.is_some() {
            None
        } else {
            progress.until_ready()
        },
    }
}
