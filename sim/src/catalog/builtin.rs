//! The built-in resource types the simulator serves, with the names, short
//! names and subresources of a real v1.32 API server.

use super::{ResourceType, ScaleSpec};

/// API groups in the order a real server lists them in `/apis`.
pub const GROUP_ORDER: [&str; 12] = [
    "",
    "apiextensions.k8s.io",
    "apps",
    "autoscaling",
    "batch",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "scheduling.k8s.io",
];

/// One built-in type. Flags: `N` namespaced, `S` status subresource,
/// `R` scale subresource, `G` maintains generation, `A` in category `all`.
struct Builtin {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    short_names: &'static [&'static str],
    flags: &'static str,
}

#[rustfmt::skip]
const BUILTINS: &[Builtin] = &[
    Builtin { group: "", version: "v1", kind: "Namespace", plural: "namespaces", short_names: &["ns"], flags: "S" },
    Builtin { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", short_names: &["cm"], flags: "N" },
    Builtin { group: "", version: "v1", kind: "Secret", plural: "secrets", short_names: &[], flags: "N" },
    Builtin { group: "", version: "v1", kind: "Service", plural: "services", short_names: &["svc"], flags: "NSA" },
    Builtin { group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", short_names: &["sa"], flags: "N" },
    Builtin { group: "", version: "v1", kind: "Pod", plural: "pods", short_names: &["po"], flags: "NSA" },
    Builtin { group: "", version: "v1", kind: "Event", plural: "events", short_names: &["ev"], flags: "N" },
    Builtin { group: "", version: "v1", kind: "Endpoints", plural: "endpoints", short_names: &["ep"], flags: "N" },
    Builtin { group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", short_names: &["pvc"], flags: "NS" },
    Builtin { group: "", version: "v1", kind: "PersistentVolume", plural: "persistentvolumes", short_names: &["pv"], flags: "S" },
    Builtin { group: "", version: "v1", kind: "LimitRange", plural: "limitranges", short_names: &["limits"], flags: "N" },
    Builtin { group: "", version: "v1", kind: "ResourceQuota", plural: "resourcequotas", short_names: &["quota"], flags: "NS" },
    Builtin { group: "", version: "v1", kind: "Node", plural: "nodes", short_names: &["no"], flags: "S" },
    Builtin { group: "apps", version: "v1", kind: "Deployment", plural: "deployments", short_names: &["deploy"], flags: "NSRGA" },
    Builtin { group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", short_names: &["sts"], flags: "NSRGA" },
    Builtin { group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets", short_names: &["ds"], flags: "NSGA" },
    Builtin { group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", short_names: &["rs"], flags: "NSRGA" },
    Builtin { group: "apps", version: "v1", kind: "ControllerRevision", plural: "controllerrevisions", short_names: &[], flags: "N" },
    Builtin { group: "batch", version: "v1", kind: "Job", plural: "jobs", short_names: &[], flags: "NSGA" },
    Builtin { group: "batch", version: "v1", kind: "CronJob", plural: "cronjobs", short_names: &["cj"], flags: "NSGA" },
    Builtin { group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers", short_names: &["hpa"], flags: "NSGA" },
    Builtin { group: "policy", version: "v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets", short_names: &["pdb"], flags: "NSG" },
    Builtin { group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", short_names: &[], flags: "N" },
    Builtin { group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", plural: "clusterroles", short_names: &[], flags: "" },
    Builtin { group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", plural: "rolebindings", short_names: &[], flags: "N" },
    Builtin { group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding", plural: "clusterrolebindings", short_names: &[], flags: "" },
    Builtin { group: "networking.k8s.io", version: "v1", kind: "Ingress", plural: "ingresses", short_names: &["ing"], flags: "NSG" },
    Builtin { group: "networking.k8s.io", version: "v1", kind: "IngressClass", plural: "ingressclasses", short_names: &[], flags: "" },
    Builtin { group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies", short_names: &["netpol"], flags: "NG" },
    Builtin { group: "storage.k8s.io", version: "v1", kind: "StorageClass", plural: "storageclasses", short_names: &["sc"], flags: "" },
    Builtin { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", short_names: &[], flags: "N" },
    Builtin { group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices", short_names: &[], flags: "N" },
    Builtin { group: "scheduling.k8s.io", version: "v1", kind: "PriorityClass", plural: "priorityclasses", short_names: &["pc"], flags: "" },
    Builtin { group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions", short_names: &["crd", "crds"], flags: "SG" },
];

/// All built-in resource types.
pub fn resource_types() -> Vec<ResourceType> {
    BUILTINS
        .iter()
        .map(|builtin| {
            let flag = |letter: char| builtin.flags.contains(letter);
            ResourceType {
                group: builtin.group.to_string(),
                versions: vec![builtin.version.to_string()],
                kind: builtin.kind.to_string(),
                list_kind: format!("{}List", builtin.kind),
                plural: builtin.plural.to_string(),
                singular: builtin.kind.to_lowercase(),
                short_names: builtin
                    .short_names
                    .iter()
                    .map(|name| name.to_string())
                    .collect(),
                categories: if flag('A') {
                    vec!["all".to_string()]
                } else {
                    Vec::new()
                },
                namespaced: flag('N'),
                status_subresource: flag('S'),
                scale: flag('R').then(|| ScaleSpec {
                    spec_replicas_path: ".spec.replicas".to_string(),
                    status_replicas_path: ".status.replicas".to_string(),
                    label_selector_path: Some(".status.selector".to_string()),
                }),
                tracks_generation: flag('G'),
                custom: false,
                printer_columns: Vec::new(),
            }
        })
        .collect()
}
