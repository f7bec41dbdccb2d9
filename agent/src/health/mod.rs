//! Health, kstatus-style, per kind (DESIGN §5): workloads by generation and
//! replica counts, Jobs and Pods by their conditions and phase, PVCs by
//! phase, LoadBalancer Services by ingress, and `status.conditions[Ready]`
//! for everything else. Aggregated per app and per cluster: the worst wins.

use serde_json::Value;

/// The health of an object, an app or a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    /// Everything is as desired and running.
    Healthy,
    /// Not assessed yet (e.g. the watch has not listed it).
    Unknown,
    /// On its way.
    Progressing,
    /// Expected but absent.
    Missing,
    /// Failed, or will not get there.
    Degraded,
}

impl Health {
    /// The wire value.
    pub fn to_wire(self) -> fleet_proto::Health {
        match self {
            Self::Healthy => fleet_proto::Health::Healthy,
            Self::Unknown => fleet_proto::Health::Unknown,
            Self::Progressing => fleet_proto::Health::Progressing,
            Self::Missing => fleet_proto::Health::Missing,
            Self::Degraded => fleet_proto::Health::Degraded,
        }
    }

    /// The worst of several (Healthy for none).
    pub fn worst(healths: impl IntoIterator<Item = Health>) -> Health {
        healths.into_iter().max().unwrap_or(Health::Healthy)
    }
}

fn integer(object: &Value, pointer: &str) -> Option<i64> {
    object.pointer(pointer).and_then(Value::as_i64)
}

fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|condition| condition.get("type").and_then(Value::as_str) == Some(kind))
}

fn condition_status(object: &Value, kind: &str) -> Option<String> {
    condition(object, kind)?
        .get("status")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn generation_observed(object: &Value) -> bool {
    match (
        integer(object, "/metadata/generation"),
        integer(object, "/status/observedGeneration"),
    ) {
        (Some(generation), Some(observed)) => observed >= generation,
        (Some(_), None) => false,
        _ => true,
    }
}

/// The health of one live object of `kind` (`None`: it does not exist).
pub fn object_health(group: &str, kind: &str, live: Option<&Value>) -> Health {
    let Some(object) = live else {
        return Health::Missing;
    };
    match (group, kind) {
        ("apps", "Deployment") => deployment(object),
        ("apps", "StatefulSet") => stateful_set(object),
        ("apps", "DaemonSet") => daemon_set(object),
        ("batch", "Job") => job(object),
        ("", "Pod") => pod(object),
        ("", "PersistentVolumeClaim") => {
            match object.pointer("/status/phase").and_then(Value::as_str) {
                Some("Bound") => Health::Healthy,
                Some("Lost") => Health::Degraded,
                _ => Health::Progressing,
            }
        }
        ("", "Service") => {
            if object.pointer("/spec/type").and_then(Value::as_str) == Some("LoadBalancer") {
                let ingress = object
                    .pointer("/status/loadBalancer/ingress")
                    .and_then(Value::as_array)
                    .is_some_and(|ingress| !ingress.is_empty());
                if ingress {
                    Health::Healthy
                } else {
                    Health::Progressing
                }
            } else {
                Health::Healthy
            }
        }
        _ => match condition_status(object, "Ready").as_deref() {
            Some("True") | None => Health::Healthy,
            Some(_) => Health::Progressing,
        },
    }
}

fn deployment(object: &Value) -> Health {
    if let Some(progressing) = condition(object, "Progressing")
        && progressing.get("reason").and_then(Value::as_str) == Some("ProgressDeadlineExceeded")
    {
        return Health::Degraded;
    }
    if !generation_observed(object) {
        return Health::Progressing;
    }
    let replicas = integer(object, "/spec/replicas").unwrap_or(1);
    let updated = integer(object, "/status/updatedReplicas").unwrap_or(0);
    let available = integer(object, "/status/availableReplicas").unwrap_or(0);
    let total = integer(object, "/status/replicas").unwrap_or(0);
    if updated >= replicas && available >= replicas && total <= replicas {
        Health::Healthy
    } else {
        Health::Progressing
    }
}

fn stateful_set(object: &Value) -> Health {
    if !generation_observed(object) {
        return Health::Progressing;
    }
    let replicas = integer(object, "/spec/replicas").unwrap_or(1);
    let ready = integer(object, "/status/readyReplicas").unwrap_or(0);
    let updated = integer(object, "/status/updatedReplicas").unwrap_or(replicas);
    let revisions_match =
        object.pointer("/status/currentRevision") == object.pointer("/status/updateRevision");
    if ready >= replicas && updated >= replicas && revisions_match {
        Health::Healthy
    } else {
        Health::Progressing
    }
}

fn daemon_set(object: &Value) -> Health {
    if !generation_observed(object) {
        return Health::Progressing;
    }
    let desired = integer(object, "/status/desiredNumberScheduled").unwrap_or(0);
    let ready = integer(object, "/status/numberReady").unwrap_or(0);
    let updated = integer(object, "/status/updatedNumberScheduled").unwrap_or(desired);
    if ready >= desired && updated >= desired {
        Health::Healthy
    } else {
        Health::Progressing
    }
}

fn job(object: &Value) -> Health {
    if condition_status(object, "Failed").as_deref() == Some("True") {
        Health::Degraded
    } else if condition_status(object, "Complete").as_deref() == Some("True") {
        Health::Healthy
    } else {
        Health::Progressing
    }
}

fn pod(object: &Value) -> Health {
    match object.pointer("/status/phase").and_then(Value::as_str) {
        Some("Succeeded") => Health::Healthy,
        Some("Failed") => Health::Degraded,
        Some("Running") if condition_status(object, "Ready").as_deref() == Some("True") => {
            Health::Healthy
        }
        _ => Health::Progressing,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn deployments_follow_generation_and_replicas() {
        let progressing = json!({"metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 1, "updatedReplicas": 2, "availableReplicas": 2, "replicas": 2}});
        assert_eq!(
            object_health("apps", "Deployment", Some(&progressing)),
            Health::Progressing
        );
        let healthy = json!({"metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "updatedReplicas": 2, "availableReplicas": 2, "replicas": 2}});
        assert_eq!(
            object_health("apps", "Deployment", Some(&healthy)),
            Health::Healthy
        );
        let failed = json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1,
            "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}});
        assert_eq!(
            object_health("apps", "Deployment", Some(&failed)),
            Health::Degraded
        );
        assert_eq!(object_health("apps", "Deployment", None), Health::Missing);
    }

    #[test]
    fn others_use_ready_and_the_worst_wins() {
        let not_ready = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        assert_eq!(
            object_health("example.com", "Widget", Some(&not_ready)),
            Health::Progressing
        );
        assert_eq!(
            object_health("", "ConfigMap", Some(&json!({}))),
            Health::Healthy
        );
        assert_eq!(
            Health::worst([Health::Healthy, Health::Degraded, Health::Progressing]),
            Health::Degraded
        );
        assert_eq!(Health::worst([]), Health::Healthy);
    }
}
