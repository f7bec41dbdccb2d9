//! What the renderer knows about Kubernetes kinds: apply order and scope.

/// Rank of `kind` in apply order (DESIGN §2): Namespace, CRD, ServiceAccount,
/// RBAC, ConfigMap/Secret, Service, workloads, then everything else.
pub fn apply_rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "ServiceAccount" => 2,
        "ClusterRole" => 3,
        "ClusterRoleBinding" => 4,
        "Role" => 5,
        "RoleBinding" => 6,
        "ConfigMap" | "Secret" => 7,
        "PersistentVolumeClaim" => 8,
        "Service" => 9,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "CronJob" | "Pod" => 10,
        _ => 11,
    }
}

/// Whether a built-in kind is cluster-scoped (custom kinds are looked up in
/// the CRDs the fleet ships).
pub fn is_cluster_scoped_builtin(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("", "Namespace")
            | ("", "Node")
            | ("", "PersistentVolume")
            | ("rbac.authorization.k8s.io", "ClusterRole")
            | ("rbac.authorization.k8s.io", "ClusterRoleBinding")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("storage.k8s.io", "StorageClass")
            | ("storage.k8s.io", "CSIDriver")
            | ("storage.k8s.io", "VolumeAttachment")
            | ("scheduling.k8s.io", "PriorityClass")
            | ("apiregistration.k8s.io", "APIService")
            | (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration"
            )
            | (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration"
            )
            | ("networking.k8s.io", "IngressClass")
            | ("node.k8s.io", "RuntimeClass")
    )
}
