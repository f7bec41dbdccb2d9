//! Field numbers of the Kubernetes protobuf messages `kubectl create
//! <generator>` sends (from k8s.io/api generated.proto), mapped to JSON
//! field names. Fields not listed are skipped.

/// How one field is encoded and rendered.
#[derive(Debug, Clone, Copy)]
pub enum FieldKind {
    /// `string`; empty values are omitted like JSON `omitempty`.
    String,
    /// A non-pointer integer (zero omitted).
    Integer,
    /// A pointer integer (`*int32`; zero kept).
    OptionalInteger,
    /// A non-pointer bool (false omitted).
    Bool,
    /// A pointer bool (false kept).
    OptionalBool,
    /// An embedded message.
    Message(&'static Schema),
    /// `repeated string`.
    Strings,
    /// `repeated` embedded messages.
    Messages(&'static Schema),
    /// `map<string, string>`.
    StringMap,
    /// `map<string, bytes>`, values rendered as base64.
    BytesMap,
    /// `map<string, Quantity>`.
    QuantityMap,
    /// `metav1.Time` (seconds, nanos), rendered as RFC 3339.
    Time,
    /// `intstr.IntOrString`.
    IntOrString,
}

/// A message: (field number, JSON name, kind).
pub type Schema = [(u64, &'static str, FieldKind)];

use FieldKind::*;

/// `metav1.OwnerReference`.
pub static OWNER_REFERENCE: &Schema = &[
    (1, "kind", String),
    (3, "name", String),
    (4, "uid", String),
    (5, "apiVersion", String),
    (6, "controller", OptionalBool),
    (7, "blockOwnerDeletion", OptionalBool),
];

/// `metav1.ObjectMeta`.
pub static OBJECT_META: &Schema = &[
    (1, "name", String),
    (2, "generateName", String),
    (3, "namespace", String),
    (5, "uid", String),
    (6, "resourceVersion", String),
    (7, "generation", Integer),
    (8, "creationTimestamp", Time),
    (11, "labels", StringMap),
    (12, "annotations", StringMap),
    (13, "ownerReferences", Messages(OWNER_REFERENCE)),
    (14, "finalizers", Strings),
];

/// `core/v1.NamespaceSpec`.
pub static NAMESPACE_SPEC: &Schema = &[(1, "finalizers", Strings)];

/// `core/v1.Namespace`.
pub static NAMESPACE: &Schema = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "spec", Message(NAMESPACE_SPEC)),
];

/// `core/v1.ConfigMap`.
pub static CONFIG_MAP: &Schema = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "data", StringMap),
    (3, "binaryData", BytesMap),
    (4, "immutable", OptionalBool),
];

/// `core/v1.Secret`.
pub static SECRET: &Schema = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "data", BytesMap),
    (3, "type", String),
    (4, "stringData", StringMap),
    (5, "immutable", OptionalBool),
];

/// `core/v1.LocalObjectReference`.
pub static LOCAL_OBJECT_REFERENCE: &Schema = &[(1, "name", String)];

/// `core/v1.ObjectReference`.
pub static OBJECT_REFERENCE: &Schema = &[
    (1, "kind", String),
    (2, "namespace", String),
    (3, "name", String),
    (4, "uid", String),
    (5, "apiVersion", String),
];

/// `core/v1.ServiceAccount`.
pub static SERVICE_ACCOUNT: &Schema = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "secrets", Messages(OBJECT_REFERENCE)),
    (3, "imagePullSecrets", Messages(LOCAL_OBJECT_REFERENCE)),
    (4, "automountServiceAccountToken", OptionalBool),
];

/// `core/v1.ContainerPort`.
pub static CONTAINER_PORT: &Schema = &[
    (1, "name", String),
    (2, "hostPort", Integer),
    (3, "containerPort", Integer),
    (4, "protocol", String),
    (5, "hostIP", String),
];

/// `core/v1.EnvVar` (without valueFrom).
pub static ENV_VAR: &Schema = &[(1, "name", String), (2, "value", String)];

/// `core/v1.ResourceRequirements`.
pub static RESOURCES: &Schema = &[(1, "limits", QuantityMap), (2, "requests", QuantityMap)];

/// `core/v1.Container` (common fields).
pub static CONTAINER: &Schema = &[
    (1, "name", String),
    (2, "image", String),
    (3, "command", Strings),
    (4, "args", Strings),
    (5, "workingDir", String),
    (6, "ports", Messages(CONTAINER_PORT)),
    (7, "env", Messages(ENV_VAR)),
    (8, "resources", Message(RESOURCES)),
    (13, "terminationMessagePath", String),
    (14, "imagePullPolicy", String),
    (20, "terminationMessagePolicy", String),
];

/// `core/v1.PodSpec` (common fields).
pub static POD_SPEC: &Schema = &[
    (2, "containers", Messages(CONTAINER)),
    (3, "restartPolicy", String),
    (4, "terminationGracePeriodSeconds", OptionalInteger),
    (6, "dnsPolicy", String),
    (7, "nodeSelector", StringMap),
    (8, "serviceAccountName", String),
    (15, "imagePullSecrets", Messages(LOCAL_OBJECT_REFERENCE)),
    (19, "schedulerName", String),
    (20, "initContainers", Messages(CONTAINER)),
];

/// `core/v1.PodTemplateSpec`.
pub static POD_TEMPLATE: &Schema = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "spec", Message(POD_SPEC)),
];

/// `metav1.LabelSelectorRequirement`.
pub static SELECTOR_REQUIREMENT: &Schema = &[
    (1, "key", String),
    (2, "operator", String),
    (3, "values", Strings),
];

/// `metav1.LabelSelector`.
pub static LABEL_SELECTOR: &Schema = &[
    (1, "matchLabels", StringMap),
    (2, "matchExpressions", Messages(SELECTOR_REQUIREMENT)),
];

/// `apps/v1.RollingUpdateDeployment`.
pub static ROLLING_UPDATE: &Schema = &[
    (1, "maxUnavailable", IntOrString),
    (2, "maxSurge", IntOrString),
];

/// `apps/v1.DeploymentStrategy`.
pub static STRATEGY: &Schema = &[
    (1, "type", String),
    (2, "rollingUpdate", Message(ROLLING_UPDATE)),
];

/// `apps/v1.DeploymentSpec`.
pub static DEPLOYMENT_SPEC: &Schema = &[
    (1, "replicas", OptionalInteger),
    (2, "selector", Message(LABEL_SELECTOR)),
    (3, "template", Message(POD_TEMPLATE)),
    (4, "strategy", Message(STRATEGY)),
    (5, "minReadySeconds", Integer),
    (6, "revisionHistoryLimit", OptionalInteger),
    (7, "paused", Bool),
    (9, "progressDeadlineSeconds", OptionalInteger),
];

/// `apps/v1.Deployment`.
pub static DEPLOYMENT: &Schema = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "spec", Message(DEPLOYMENT_SPEC)),
];

/// The top-level schema for an apiVersion and kind, if the simulator can decode it.
pub fn for_kind(api_version: &str, kind: &str) -> Option<&'static Schema> {
    match (api_version, kind) {
        ("v1", "Namespace") => Some(NAMESPACE),
        ("v1", "ConfigMap") => Some(CONFIG_MAP),
        ("v1", "Secret") => Some(SECRET),
        ("v1", "ServiceAccount") => Some(SERVICE_ACCOUNT),
        ("apps/v1", "Deployment") => Some(DEPLOYMENT),
        _ => None,
    }
}
