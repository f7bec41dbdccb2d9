//! The manifests that install the agent in a cluster, as one YAML stream:
//! Namespace, ServiceAccount, ClusterRole and binding, the bootstrap Secret
//! (token + hub CA) and the Deployment. A pure function, so `fleetctl agent
//! install` and `fleet-agent install-manifests` print the same thing, and
//! `deploy/agent/` holds a copy with placeholders.

use serde_json::{Value, json};

/// The optional Secret holding the agent's age identities for SOPS.
pub const SOPS_SECRET: &str = "fleet-agent-sops";
/// Its key: an age key file (`age-keygen` output, one or more identities).
pub const SOPS_KEY: &str = "age.agekey";
/// Where the agent's pod mounts it.
const SOPS_MOUNT: &str = "/etc/fleet-agent/sops";
/// The image used when none is given: what `deploy/containers/build.sh`
/// tags (`localhost/fleet-agent:<version>`); push it to a registry the
/// cluster can pull from and pass `--image` there.
pub const DEFAULT_IMAGE: &str = concat!("localhost/fleet-agent:", env!("CARGO_PKG_VERSION"));
/// The agent's namespace.
pub const DEFAULT_NAMESPACE: &str = "fleet-system";
/// Name of every object the install creates (but the Namespace and Secret).
pub const AGENT_NAME: &str = "fleet-agent";
/// The Secret holding the bootstrap token and the hub CA.
pub const BOOTSTRAP_SECRET: &str = "fleet-agent-bootstrap";
/// Port of `/healthz` and `/metrics` in the pod.
pub const METRICS_PORT: u16 = 9090;

/// What the manifests are made from.
#[derive(Debug, Clone)]
pub struct InstallSpec {
    /// The cluster's name at the hub.
    pub cluster: String,
    /// Hub endpoints (https://host:port).
    pub hub_endpoints: Vec<String>,
    /// The hub CA certificate (PEM).
    pub ca_pem: String,
    /// A bootstrap token for this cluster.
    pub token: String,
    /// The agent image.
    pub image: String,
    /// The agent's namespace.
    pub namespace: String,
}

/// Why the manifests could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// An input is empty.
    #[error("cannot write install manifests: {0} is empty")]
    Empty(&'static str),
    /// YAML serialization failed.
    #[error("cannot write install manifests as YAML: {0}")]
    Yaml(String),
}

fn labels() -> Value {
    json!({"app.kubernetes.io/name": AGENT_NAME, "app.kubernetes.io/part-of": "fleet"})
}

/// The objects, in apply order.
pub fn objects(spec: &InstallSpec) -> Result<Vec<Value>, InstallError> {
    for (value, name) in [
        (&spec.cluster, "the cluster name"),
        (&spec.ca_pem, "the hub CA"),
        (&spec.token, "the bootstrap token"),
        (&spec.image, "the image"),
        (&spec.namespace, "the namespace"),
    ] {
        if value.trim().is_empty() {
            return Err(InstallError::Empty(name));
        }
    }
    if spec.hub_endpoints.is_empty() {
        return Err(InstallError::Empty("the hub endpoint list"));
    }
    let namespace = spec.namespace.as_str();
    Ok(vec![
        json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": namespace, "labels": labels()}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": AGENT_NAME, "namespace": namespace, "labels": labels()}}),
        // The agent applies whatever Git holds, CRDs and RBAC included, so it
        // needs every verb on every resource; narrow this if your fleet
        // repository only manages some kinds.
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": AGENT_NAME, "labels": labels()},
        "rules": [
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            {"nonResourceURLs": ["*"], "verbs": ["get"]}
        ]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": AGENT_NAME, "labels": labels()},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": AGENT_NAME},
            "subjects": [{"kind": "ServiceAccount", "name": AGENT_NAME, "namespace": namespace}]}),
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": BOOTSTRAP_SECRET, "namespace": namespace, "labels": labels()},
            "type": "Opaque",
            "stringData": {"token": spec.token, "ca.crt": spec.ca_pem}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": AGENT_NAME, "namespace": namespace, "labels": labels()},
        "spec": {
            "replicas": 1,
            // Never two agents for one cluster, not even during an upgrade.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"app.kubernetes.io/name": AGENT_NAME}},
            "template": {
                "metadata": {"labels": labels()},
                "spec": {
                    "serviceAccountName": AGENT_NAME,
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "fsGroup": 65532},
                    "containers": [{
                        "name": AGENT_NAME,
                        "image": spec.image,
                        "args": [
                            "--cluster", spec.cluster,
                            "--hub", spec.hub_endpoints.join(","),
                            "--ca", "/etc/fleet-agent/bootstrap/ca.crt",
                            "--state-dir", "/var/lib/fleet-agent",
                            "--namespace", namespace,
                            "--listen", format!("0.0.0.0:{METRICS_PORT}"),
                            "--log-format", "json",
                            "--sops-age-key-file", format!("{SOPS_MOUNT}/{SOPS_KEY}")
                        ],
                        "env": [{"name": crate::env::TOKEN, "valueFrom": {"secretKeyRef":
                            {"name": BOOTSTRAP_SECRET, "key": "token", "optional": true}}}],
                        "ports": [{"name": "metrics", "containerPort": METRICS_PORT}],
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "metrics"}},
                        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"},
                                      "limits": {"memory": "128Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [
                            {"name": "bootstrap", "mountPath": "/etc/fleet-agent/bootstrap", "readOnly": true},
                            {"name": "state", "mountPath": "/var/lib/fleet-agent"},
                            {"name": "sops", "mountPath": SOPS_MOUNT, "readOnly": true}
                        ]
                    }],
                    "volumes": [
                        {"name": "bootstrap", "secret": {"secretName": BOOTSTRAP_SECRET}},
                        // The identity is also kept in the Secret fleet-agent-identity,
                        // so an emptyDir is enough: a new pod restores it from there.
                        {"name": "state", "emptyDir": {}},
                        // Optional: without it the agent runs and reports the
                        // SOPS-encrypted objects it cannot decrypt. The kubelet
                        // updates the file when the Secret changes (key rotation).
                        {"name": "sops", "secret": {"secretName": SOPS_SECRET, "optional": true,
                            "items": [{"key": SOPS_KEY, "path": SOPS_KEY}]}}
                    ]
                }
            }
        }}),
    ])
}

/// The manifests as one multi-document YAML string.
pub fn manifests(spec: &InstallSpec) -> Result<String, InstallError> {
    let mut text = String::new();
    for object in objects(spec)? {
        text.push_str("---\n");
        text.push_str(
            &serde_saphyr::to_string(&object)
                .map_err(|error| InstallError::Yaml(error.to_string()))?,
        );
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> InstallSpec {
        InstallSpec {
            cluster: "edge-1".into(),
            hub_endpoints: vec!["https://hub-0:7443".into(), "https://hub-1:7443".into()],
            ca_pem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
            token: "secret-token".into(),
            image: DEFAULT_IMAGE.into(),
            namespace: DEFAULT_NAMESPACE.into(),
        }
    }

    #[test]
    fn produces_the_six_objects_with_the_inputs() {
        let kinds: Vec<String> = objects(&spec())
            .unwrap()
            .iter()
            .map(|object| object["kind"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "ServiceAccount",
                "ClusterRole",
                "ClusterRoleBinding",
                "Secret",
                "Deployment"
            ]
        );
        let yaml = manifests(&spec()).unwrap();
        assert_eq!(yaml.lines().filter(|line| *line == "---").count(), 6);
        assert!(
            yaml.contains("https://hub-0:7443,https://hub-1:7443"),
            "{yaml}"
        );
        assert!(yaml.contains("secret-token"));
        // The optional age key Secret is mounted where the flag points.
        assert!(yaml.contains("/etc/fleet-agent/sops/age.agekey"), "{yaml}");
        assert!(yaml.contains("secretName: fleet-agent-sops"), "{yaml}");
        let mut empty = spec();
        empty.token.clear();
        assert_eq!(
            manifests(&empty).unwrap_err().to_string(),
            "cannot write install manifests: the bootstrap token is empty"
        );
    }

    /// `deploy/agent/agent.yaml` is these manifests with placeholders; this
    /// keeps the reference copy from drifting from the code.
    #[test]
    fn the_reference_copy_in_deploy_matches() {
        let reference = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/agent/agent.yaml"),
        )
        .unwrap();
        let placeholders = InstallSpec {
            cluster: "CLUSTER_NAME".into(),
            hub_endpoints: vec!["https://HUB_HOST:7443".into()],
            ca_pem: "<the hub CA certificate, PEM — the ca.crt written by fleet-hub init>\n".into(),
            token: "BOOTSTRAP_TOKEN".into(),
            image: DEFAULT_IMAGE.into(),
            namespace: DEFAULT_NAMESPACE.into(),
        };
        assert_eq!(
            manifests(&placeholders).unwrap(),
            reference,
            "regenerate with `fleet-agent install-manifests` (see deploy/agent/README.md)"
        );
    }
}
