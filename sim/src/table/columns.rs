//! The columns a real server prints for each built-in kind (and for custom
//! resources, their `additionalPrinterColumns`), and the cells of one row.

use std::borrow::Cow;

use serde_json::{Value, json};

use super::cells::{
    age, condition_true, containers, count, joined, json_path_pointer, number, or_default, or_none,
    selector, text,
};
use crate::catalog::ResourceType;
use crate::clock::{human_age, parse_rfc3339, unix_seconds_now};

/// One column definition.
pub struct Column {
    /// Header.
    pub name: Cow<'static, str>,
    /// OpenAPI type.
    pub column_type: &'static str,
    /// 0 for default columns, 1 for `-o wide`.
    pub priority: u8,
}

const fn column(name: &'static str, column_type: &'static str, priority: u8) -> Column {
    Column {
        name: Cow::Borrowed(name),
        column_type,
        priority,
    }
}

/// The columns for this kind and the cells for `object`.
pub fn columns_and_cells(
    resource_type: &ResourceType,
    object: &Value,
) -> (Vec<Column>, Vec<Value>) {
    let name = json!(text(object, "/metadata/name"));
    let age_cell = json!(age(object));
    match (resource_type.group.as_str(), resource_type.kind.as_str()) {
        ("apps", "Deployment") => {
            let items = containers(object);
            (
                vec![
                    column("Name", "string", 0),
                    column("Ready", "string", 0),
                    column("Up-to-date", "integer", 0),
                    column("Available", "integer", 0),
                    column("Age", "string", 0),
                    column("Containers", "string", 1),
                    column("Images", "string", 1),
                    column("Selector", "string", 1),
                ],
                vec![
                    name,
                    json!(format!(
                        "{}/{}",
                        number(object, "/status/readyReplicas"),
                        number(object, "/spec/replicas")
                    )),
                    json!(number(object, "/status/updatedReplicas")),
                    json!(number(object, "/status/availableReplicas")),
                    age_cell,
                    json!(joined(&items, "name")),
                    json!(joined(&items, "image")),
                    json!(selector(object)),
                ],
            )
        }
        ("apps", "StatefulSet") => (
            vec![
                column("Name", "string", 0),
                column("Ready", "string", 0),
                column("Age", "string", 0),
            ],
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    number(object, "/status/readyReplicas"),
                    number(object, "/spec/replicas")
                )),
                age_cell,
            ],
        ),
        ("apps", "DaemonSet") => (
            vec![
                column("Name", "string", 0),
                column("Desired", "integer", 0),
                column("Current", "integer", 0),
                column("Ready", "integer", 0),
                column("Up-to-date", "integer", 0),
                column("Available", "integer", 0),
                column("Node Selector", "string", 0),
                column("Age", "string", 0),
            ],
            vec![
                name,
                json!(number(object, "/status/desiredNumberScheduled")),
                json!(number(object, "/status/currentNumberScheduled")),
                json!(number(object, "/status/numberReady")),
                json!(number(object, "/status/updatedNumberScheduled")),
                json!(number(object, "/status/numberAvailable")),
                json!("<none>"),
                age_cell,
            ],
        ),
        ("apps", "ReplicaSet") => (
            vec![
                column("Name", "string", 0),
                column("Desired", "integer", 0),
                column("Current", "integer", 0),
                column("Ready", "integer", 0),
                column("Age", "string", 0),
            ],
            vec![
                name,
                json!(number(object, "/spec/replicas")),
                json!(number(object, "/status/replicas")),
                json!(number(object, "/status/readyReplicas")),
                age_cell,
            ],
        ),
        ("batch", "Job") => {
            let status = if condition_true(object, "Complete") {
                "Complete"
            } else if condition_true(object, "Failed") {
                "Failed"
            } else {
                "Running"
            };
            (
                vec![
                    column("Name", "string", 0),
                    column("Status", "string", 0),
                    column("Completions", "string", 0),
                    column("Age", "string", 0),
                ],
                vec![
                    name,
                    json!(status),
                    json!(format!(
                        "{}/{}",
                        number(object, "/status/succeeded"),
                        number(object, "/spec/completions").max(1)
                    )),
                    age_cell,
                ],
            )
        }
        ("", "Pod") => (
            vec![
                column("Name", "string", 0),
                column("Ready", "string", 0),
                column("Status", "string", 0),
                column("Restarts", "string", 0),
                column("Age", "string", 0),
            ],
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    if condition_true(object, "Ready") {
                        1
                    } else {
                        0
                    },
                    object
                        .pointer("/spec/containers")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                )),
                json!(pod_status(object)),
                json!("0"),
                age_cell,
            ],
        ),
        ("", "Service") => {
            let ports = object
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|ports| {
                    ports
                        .iter()
                        .map(|port| {
                            format!(
                                "{}/{}",
                                text(port, "/port"),
                                or_default(text(port, "/protocol"), "TCP")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            let external = text(object, "/status/loadBalancer/ingress/0/ip");
            let external = if external.is_empty() && text(object, "/spec/type") == "LoadBalancer" {
                "<pending>".to_string()
            } else {
                or_none(external)
            };
            (
                vec![
                    column("Name", "string", 0),
                    column("Type", "string", 0),
                    column("Cluster-IP", "string", 0),
                    column("External-IP", "string", 0),
                    column("Port(s)", "string", 0),
                    column("Age", "string", 0),
                ],
                vec![
                    name,
                    json!(text(object, "/spec/type")),
                    json!(or_none(text(object, "/spec/clusterIP"))),
                    json!(external),
                    json!(or_none(ports)),
                    age_cell,
                ],
            )
        }
        ("", "Node") => (
            vec![
                column("Name", "string", 0),
                column("Status", "string", 0),
                column("Roles", "string", 0),
                column("Age", "string", 0),
                column("Version", "string", 0),
            ],
            vec![
                name,
                json!(if condition_true(object, "Ready") {
                    "Ready"
                } else {
                    "NotReady"
                }),
                json!("control-plane"),
                age_cell,
                json!(text(object, "/status/nodeInfo/kubeletVersion")),
            ],
        ),
        ("", "PersistentVolumeClaim") => (
            vec![
                column("Name", "string", 0),
                column("Status", "string", 0),
                column("Volume", "string", 0),
                column("Capacity", "string", 0),
                column("Access Modes", "string", 0),
                column("StorageClass", "string", 0),
                column("Age", "string", 0),
            ],
            vec![
                name,
                json!(text(object, "/status/phase")),
                json!(text(object, "/spec/volumeName")),
                json!(text(object, "/status/capacity/storage")),
                json!(
                    object
                        .pointer("/status/accessModes")
                        .and_then(Value::as_array)
                        .map(|modes| modes
                            .iter()
                            .filter_map(Value::as_str)
                            .map(|mode| match mode {
                                "ReadWriteOnce" => "RWO",
                                "ReadOnlyMany" => "ROX",
                                "ReadWriteMany" => "RWX",
                                other => other,
                            })
                            .collect::<Vec<_>>()
                            .join(","))
                        .unwrap_or_default()
                ),
                json!(or_none(text(object, "/spec/storageClassName"))),
                age_cell,
            ],
        ),
        ("batch", "CronJob") => (
            vec![
                column("Name", "string", 0),
                column("Schedule", "string", 0),
                column("Suspend", "boolean", 0),
                column("Active", "integer", 0),
                column("Last Schedule", "string", 0),
                column("Age", "string", 0),
            ],
            vec![
                name,
                json!(text(object, "/spec/schedule")),
                json!(if object
                    .pointer("/spec/suspend")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                {
                    "True"
                } else {
                    "False"
                }),
                json!(0),
                json!("<none>"),
                age_cell,
            ],
        ),
        ("", "ConfigMap") => (
            vec![
                column("Name", "string", 0),
                column("Data", "integer", 0),
                column("Age", "string", 0),
            ],
            vec![
                name,
                json!(count(object, &["data", "binaryData"])),
                age_cell,
            ],
        ),
        ("", "Secret") => (
            vec![
                column("Name", "string", 0),
                column("Type", "string", 0),
                column("Data", "integer", 0),
                column("Age", "string", 0),
            ],
            vec![
                name,
                json!(text(object, "/type")),
                json!(count(object, &["data"])),
                age_cell,
            ],
        ),
        ("", "Namespace") => (
            vec![
                column("Name", "string", 0),
                column("Status", "string", 0),
                column("Age", "string", 0),
            ],
            vec![name, json!(text(object, "/status/phase")), age_cell],
        ),
        ("", "ServiceAccount") => (
            vec![
                column("Name", "string", 0),
                column("Secrets", "integer", 0),
                column("Age", "string", 0),
            ],
            vec![
                name,
                json!(
                    object
                        .get("secrets")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                ),
                age_cell,
            ],
        ),
        ("", "Event") => (
            vec![
                column("Last Seen", "string", 0),
                column("Type", "string", 0),
                column("Reason", "string", 0),
                column("Object", "string", 0),
                column("Message", "string", 0),
            ],
            vec![
                age_cell,
                json!(text(object, "/type")),
                json!(text(object, "/reason")),
                json!(format!(
                    "{}/{}",
                    text(object, "/involvedObject/kind").to_lowercase(),
                    text(object, "/involvedObject/name")
                )),
                json!(text(object, "/message")),
            ],
        ),
        ("rbac.authorization.k8s.io", "RoleBinding")
        | ("rbac.authorization.k8s.io", "ClusterRoleBinding") => (
            vec![
                column("Name", "string", 0),
                column("Role", "string", 0),
                column("Age", "string", 0),
            ],
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    text(object, "/roleRef/kind"),
                    text(object, "/roleRef/name")
                )),
                age_cell,
            ],
        ),
        ("rbac.authorization.k8s.io", _) | ("apiextensions.k8s.io", _) => (
            vec![column("Name", "string", 0), column("Created At", "date", 0)],
            vec![name, json!(text(object, "/metadata/creationTimestamp"))],
        ),
        _ if resource_type.custom => {
            let mut columns = vec![column("Name", "string", 0)];
            let mut cells = vec![name];
            for printer_column in &resource_type.printer_columns {
                let pointer = json_path_pointer(&printer_column.json_path);
                let value = object.pointer(&pointer).cloned().unwrap_or(Value::Null);
                let cell = if printer_column.column_type == "date" {
                    value
                        .as_str()
                        .and_then(parse_rfc3339)
                        .map(|time| json!(human_age(unix_seconds_now() - time)))
                        .unwrap_or(Value::Null)
                } else {
                    value
                };
                columns.push(Column {
                    name: Cow::Owned(printer_column.name.clone()),
                    column_type: "string",
                    priority: 0,
                });
                cells.push(cell);
            }
            if !resource_type
                .printer_columns
                .iter()
                .any(|printer_column| printer_column.name == "Age")
            {
                columns.push(column("Age", "date", 0));
                cells.push(age_cell);
            }
            (columns, cells)
        }
        _ => (
            vec![column("Name", "string", 0), column("Age", "string", 0)],
            vec![name, age_cell],
        ),
    }
}

/// What kubectl prints in a pod's STATUS column: a waiting or terminated
/// container's reason (ImagePullBackOff, Completed), else the phase.
fn pod_status(object: &Value) -> String {
    let reason = object
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .and_then(|statuses| {
            statuses.iter().find_map(|status| {
                status
                    .pointer("/state/waiting/reason")
                    .or_else(|| status.pointer("/state/terminated/reason"))
                    .and_then(Value::as_str)
            })
        });
    match reason {
        Some(reason) => reason.to_string(),
        None => or_none(text(object, "/status/phase")),
    }
}
