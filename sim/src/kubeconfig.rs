//! Writing a kubeconfig that points `kubectl` or the `kube` crate at a
//! simulator: server URL, CA data (for HTTPS) and bearer token.

use base64::Engine;

/// Renders a kubeconfig with one cluster, user and context named `name`.
pub fn render(name: &str, server_url: &str, ca_pem: Option<&str>, token: &str) -> String {
    // JSON strings are valid YAML scalars: quoting keeps any name safe.
    let quote = |text: &str| serde_json::Value::String(text.to_string()).to_string();
    let (name, server_url, token) = (quote(name), quote(server_url), quote(token));
    let mut lines = vec![
        "# kubeconfig for a fleet-sim Kubernetes API simulator (a test and demo tool, not a cluster)".to_string(),
        "apiVersion: v1".to_string(),
        "kind: Config".to_string(),
        "clusters:".to_string(),
        format!("- name: {name}"),
        "  cluster:".to_string(),
        format!("    server: {server_url}"),
    ];
    if let Some(pem) = ca_pem {
        let encoded = base64::engine::general_purpose::STANDARD.encode(pem.as_bytes());
        lines.push(format!("    certificate-authority-data: {encoded}"));
    }
    lines.extend([
        "users:".to_string(),
        format!("- name: {name}"),
        "  user:".to_string(),
        format!("    token: {token}"),
        "contexts:".to_string(),
        format!("- name: {name}"),
        "  context:".to_string(),
        format!("    cluster: {name}"),
        format!("    user: {name}"),
        "    namespace: default".to_string(),
        format!("current-context: {name}"),
        "preferences: {}".to_string(),
    ]);
    let mut text = lines.join("\n");
    text.push('\n');
    text
}
