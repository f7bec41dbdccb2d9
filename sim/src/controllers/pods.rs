//! Materializing the objects real controllers create: a Deployment gets a
//! ReplicaSet per template (older ones scaled to zero), ReplicaSets,
//! StatefulSets, DaemonSets and Jobs get Pods. Pods get their status from
//! the pod controller; deleting an owner deletes them through the garbage
//! collector (ownerReferences).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::CONTROLLER_MANAGER;
use super::workload::template_hash;
use crate::api::{create_as, random_suffix, update_as};
use crate::catalog::GroupResource;
use crate::store::StoreState;

/// The node every simulated pod runs on.
const NODE_NAME: &str = "fleet-sim-node";

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn owner_reference(owner: &Value) -> Value {
    json!({
        "apiVersion": text(owner, "/apiVersion"),
        "kind": text(owner, "/kind"),
        "name": text(owner, "/metadata/name"),
        "uid": text(owner, "/metadata/uid"),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

fn owned(state: &StoreState, resource: &GroupResource, owner_uid: &str) -> Vec<Arc<Value>> {
    state
        .dependents(owner_uid)
        .into_iter()
        .filter(|(dependent_resource, _)| dependent_resource == resource)
        .map(|(_, object)| object)
        .collect()
}

fn template_labels(owner: &Value) -> Map<String, Value> {
    owner
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn log_failure(result: crate::status::ApiResult<Value>, what: &str) {
    if let Err(error) = result {
        tracing::warn!(%error, what, "simulated controller could not write an object");
    }
}

fn delete(state: &mut StoreState, resource: &GroupResource, object: &Value) {
    let (namespace, name) = (
        text(object, "/metadata/namespace").to_string(),
        text(object, "/metadata/name").to_string(),
    );
    state.delete(resource, &namespace, &name);
}

fn pod_from_template(owner: &Value, name: &str, extra_labels: &[(&str, String)]) -> Value {
    let mut labels = template_labels(owner);
    for (key, value) in extra_labels {
        labels.insert((*key).to_string(), json!(value));
    }
    let mut spec = owner
        .pointer("/spec/template/spec")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Some(spec) = spec.as_object_mut() {
        spec.insert("nodeName".into(), json!(NODE_NAME));
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels, "ownerReferences": [owner_reference(owner)]},
        "spec": spec,
    })
}

/// Creates or removes the owner's pods so that exactly `desired` exist.
/// With `revision_label`, pods carrying another template revision are
/// replaced (StatefulSets and DaemonSets label pods `controller-revision-hash`);
/// `names` picks the name of the n-th pod.
fn sync_pods(
    state: &mut StoreState,
    owner: &Value,
    desired: usize,
    revision_label: Option<&str>,
    names: &dyn Fn(usize) -> String,
) {
    let pods = GroupResource::new("", "pods");
    let namespace = text(owner, "/metadata/namespace").to_string();
    let revision = format!("{}-{}", text(owner, "/metadata/name"), template_hash(owner));
    let mut current = Vec::new();
    for pod in owned(state, &pods, text(owner, "/metadata/uid")) {
        let outdated = revision_label.is_some_and(|label| {
            pod.pointer("/metadata/labels")
                .and_then(|labels| labels.get(label))
                .and_then(Value::as_str)
                != Some(revision.as_str())
        });
        if outdated {
            delete(state, &pods, &pod);
        } else {
            current.push(pod);
        }
    }
    for extra in current.iter().skip(desired) {
        delete(state, &pods, extra);
    }
    let extra_labels: Vec<(&str, String)> = revision_label
        .map(|label| (label, revision.clone()))
        .into_iter()
        .collect();
    for index in current.len()..desired {
        let mut name = names(index);
        while state.get(&pods, &namespace, &name).is_some() {
            name = format!("{}-{}", text(owner, "/metadata/name"), random_suffix());
        }
        let body = pod_from_template(owner, &name, &extra_labels);
        log_failure(
            create_as(state, &pods, &namespace, body, CONTROLLER_MANAGER),
            "pod",
        );
    }
}

fn replicas(object: &Value) -> usize {
    object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .map_or(1, |replicas| usize::try_from(replicas).unwrap_or(0))
}

/// A Deployment's ReplicaSets: one per template, older ones at zero.
fn sync_deployment(state: &mut StoreState, deployment: &Value) {
    let replica_sets = GroupResource::new("apps", "replicasets");
    let namespace = text(deployment, "/metadata/namespace").to_string();
    let hash = template_hash(deployment);
    let name = format!("{}-{hash}", text(deployment, "/metadata/name"));
    let desired = replicas(deployment);
    for replica_set in owned(state, &replica_sets, text(deployment, "/metadata/uid")) {
        let is_current = text(&replica_set, "/metadata/name") == name;
        let target = if is_current { desired } else { 0 };
        if replicas(&replica_set) != target {
            let mut scaled = (*replica_set).clone();
            scaled["spec"]["replicas"] = json!(target);
            log_failure(
                update_as(state, &replica_sets, scaled, CONTROLLER_MANAGER),
                "replicaset",
            );
        }
    }
    if state.get(&replica_sets, &namespace, &name).is_some() {
        return;
    }
    let mut labels = template_labels(deployment);
    labels.insert("pod-template-hash".into(), json!(hash));
    let mut selector = deployment
        .pointer("/spec/selector")
        .cloned()
        .unwrap_or_else(|| json!({}));
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut template = deployment
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    template["metadata"]["labels"] = Value::Object(labels.clone());
    let body = json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": deployment.pointer("/metadata/generation").cloned().unwrap_or(json!(1)).to_string()},
            "ownerReferences": [owner_reference(deployment)],
        },
        "spec": {"replicas": desired, "selector": selector, "template": template},
    });
    log_failure(
        create_as(state, &replica_sets, &namespace, body, CONTROLLER_MANAGER),
        "replicaset",
    );
}

/// Creates and removes the objects owned by `object`, by kind.
pub fn materialize(state: &mut StoreState, resource: &GroupResource, object: &Value) {
    let name = text(object, "/metadata/name").to_string();
    match (resource.group.as_str(), resource.resource.as_str()) {
        ("apps", "deployments") => sync_deployment(state, object),
        ("apps", "replicasets") => sync_pods(state, object, replicas(object), None, &|_| {
            format!("{name}-{}", random_suffix())
        }),
        ("apps", "statefulsets") => sync_pods(
            state,
            object,
            replicas(object),
            Some("controller-revision-hash"),
            &|index| format!("{name}-{index}"),
        ),
        ("apps", "daemonsets") => {
            sync_pods(state, object, 1, Some("controller-revision-hash"), &|_| {
                format!("{name}-{}", random_suffix())
            })
        }
        ("batch", "jobs") => sync_pods(state, object, 1, None, &|_| {
            format!("{name}-{}", random_suffix())
        }),
        _ => {}
    }
}
