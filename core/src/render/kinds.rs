//! What the renderer knows about Kubernetes kinds: apply order and scope.

/// The buckets of the apply order (DESIGN §2), first to last. Within a
/// bucket objects are sorted by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ApplyBucket {
    /// `Namespace`: everything namespaced lands in one.
    Namespace,
    /// `CustomResourceDefinition`: custom resources need their kind served.
    CustomResourceDefinition,
    /// `PriorityClass`: pods naming one are refused without it.
    PriorityClass,
    /// `StorageClass` (and the other cluster-wide classes `IngressClass`,
    /// `RuntimeClass`): claims, ingresses and pods refer to them.
    Classes,
    /// `ServiceAccount`.
    ServiceAccount,
    /// `ClusterRole`, `ClusterRoleBinding`, `Role`, `RoleBinding`.
    Rbac,
    /// `LimitRange`, `ResourceQuota` (and the other policies that constrain
    /// pods as they are created: `NetworkPolicy`, `PodDisruptionBudget`).
    Policy,
    /// `ConfigMap`, `Secret`.
    Configuration,
    /// `PersistentVolume`, `PersistentVolumeClaim`.
    Storage,
    /// `Service` (before the workloads whose pods get its environment).
    Service,
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`,
    /// `ReplicationController`, `Job`, `CronJob`, `Pod`.
    Workload,
    /// Everything else: custom resources and the remaining built-ins
    /// (`Ingress`, `HorizontalPodAutoscaler`, …).
    Other,
    /// `MutatingWebhookConfiguration`, `ValidatingWebhookConfiguration`,
    /// `ValidatingAdmissionPolicy(Binding)`, `APIService`: last, so they do
    /// not intercept the objects being applied before their backends run.
    Webhook,
}

/// The apply-order bucket of `kind` in API `group` (`""` for core).
/// A kind of an unexpected group (a custom resource that happens to be
/// called `Service`) is a custom resource.
pub fn apply_bucket(group: &str, kind: &str) -> ApplyBucket {
    match (group, kind) {
        ("", "Namespace") => ApplyBucket::Namespace,
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            ApplyBucket::CustomResourceDefinition
        }
        ("scheduling.k8s.io", "PriorityClass") => ApplyBucket::PriorityClass,
        ("storage.k8s.io", "StorageClass")
        | ("networking.k8s.io", "IngressClass")
        | ("node.k8s.io", "RuntimeClass") => ApplyBucket::Classes,
        ("", "ServiceAccount") => ApplyBucket::ServiceAccount,
        (
            "rbac.authorization.k8s.io",
            "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding",
        ) => ApplyBucket::Rbac,
        ("", "LimitRange" | "ResourceQuota")
        | ("networking.k8s.io", "NetworkPolicy")
        | ("policy", "PodDisruptionBudget") => ApplyBucket::Policy,
        ("", "ConfigMap" | "Secret") => ApplyBucket::Configuration,
        ("", "PersistentVolume" | "PersistentVolumeClaim") => ApplyBucket::Storage,
        ("", "Service") => ApplyBucket::Service,
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job" | "CronJob")
        | ("", "Pod" | "ReplicationController") => ApplyBucket::Workload,
        (
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding",
        )
        | ("apiregistration.k8s.io", "APIService") => ApplyBucket::Webhook,
        _ => ApplyBucket::Other,
    }
}

/// The scope of a built-in kind the renderer knows: `Some(true)` namespaced,
/// `Some(false)` cluster-scoped, `None` not known here (a custom resource,
/// or a built-in kind not listed) — then only the CRDs the cluster receives
/// from the repository, or else the agent's discovery, can say.
pub fn builtin_scope(group: &str, kind: &str) -> Option<bool> {
    if is_cluster_scoped_builtin(group, kind) {
        return Some(false);
    }
    is_namespaced_builtin(group, kind).then_some(true)
}

/// Whether a built-in kind is known to live in namespaces.
pub fn is_namespaced_builtin(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        (
            "",
            "Pod"
                | "Service"
                | "ConfigMap"
                | "Secret"
                | "ServiceAccount"
                | "PersistentVolumeClaim"
                | "LimitRange"
                | "ResourceQuota"
                | "Endpoints"
                | "Event"
                | "ReplicationController"
                | "PodTemplate"
        ) | (
            "apps",
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ControllerRevision"
        ) | ("batch", "Job" | "CronJob")
            | ("autoscaling", "HorizontalPodAutoscaler")
            | ("policy", "PodDisruptionBudget")
            | ("networking.k8s.io", "Ingress" | "NetworkPolicy")
            | ("rbac.authorization.k8s.io", "Role" | "RoleBinding")
            | ("coordination.k8s.io", "Lease")
            | ("discovery.k8s.io", "EndpointSlice")
            | ("events.k8s.io", "Event")
            | ("storage.k8s.io", "CSIStorageCapacity")
    )
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
            | (
                "admissionregistration.k8s.io",
                "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding"
            )
            | ("networking.k8s.io", "IngressClass")
            | ("node.k8s.io", "RuntimeClass")
            | ("storage.k8s.io", "CSINode")
            | ("certificates.k8s.io", "CertificateSigningRequest")
            | (
                "flowcontrol.apiserver.k8s.io",
                "FlowSchema" | "PriorityLevelConfiguration"
            )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apply_order_is_the_one_design_section_two_gives() {
        // (group, kind) in the order DESIGN §2 names them.
        let order = [
            ("", "Namespace"),
            ("apiextensions.k8s.io", "CustomResourceDefinition"),
            ("scheduling.k8s.io", "PriorityClass"),
            ("storage.k8s.io", "StorageClass"),
            ("", "ServiceAccount"),
            ("rbac.authorization.k8s.io", "ClusterRole"),
            ("rbac.authorization.k8s.io", "RoleBinding"),
            ("", "LimitRange"),
            ("", "ResourceQuota"),
            ("", "ConfigMap"),
            ("", "Secret"),
            ("", "PersistentVolumeClaim"),
            ("", "Service"),
            ("apps", "Deployment"),
            ("batch", "Job"),
            ("", "Pod"),
            ("cert-manager.io", "ClusterIssuer"),
            ("networking.k8s.io", "Ingress"),
            (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration",
            ),
            (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration",
            ),
        ];
        let buckets: Vec<ApplyBucket> = order
            .iter()
            .map(|(group, kind)| apply_bucket(group, kind))
            .collect();
        for (pair, window) in order.windows(2).zip(buckets.windows(2)) {
            assert!(
                window[0] <= window[1],
                "{:?} must not follow {:?}",
                pair[0],
                pair[1]
            );
        }
        assert!(apply_bucket("scheduling.k8s.io", "PriorityClass") < ApplyBucket::Workload);
        assert!(apply_bucket("", "LimitRange") < apply_bucket("apps", "Deployment"));
        assert!(apply_bucket("cert-manager.io", "Certificate") < ApplyBucket::Webhook);
    }

    #[test]
    fn a_custom_kind_named_like_a_built_in_is_a_custom_resource() {
        assert_eq!(apply_bucket("example.com", "Service"), ApplyBucket::Other);
        assert_eq!(apply_bucket("example.com", "Namespace"), ApplyBucket::Other);
        assert_eq!(apply_bucket("", "Service"), ApplyBucket::Service);
    }
}
