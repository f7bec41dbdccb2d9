//! A small fleet repository written by the agent tests: one environment,
//! the clusters they name, and apps given as (name, app spec, manifests).

use std::path::Path;

/// Writes `relative` under `root`.
pub fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A fleet with `clusters` (environment `dev`) and no apps yet.
pub fn fleet(root: &Path, clusters: &[&str]) {
    write(
        root,
        "fleet.yaml",
        "apiVersion: fleet/v1alpha1\nkind: Fleet\nmetadata:\n  name: tiny\nspec:\n  vars:\n    registry: example.com\n",
    );
    write(
        root,
        "environments/dev.yaml",
        "apiVersion: fleet/v1alpha1\nkind: Environment\nmetadata:\n  name: dev\nspec:\n  vars:\n    replicas: 1\n",
    );
    for cluster in clusters {
        write(
            root,
            &format!("clusters/{cluster}.yaml"),
            &format!(
                "apiVersion: fleet/v1alpha1\nkind: Cluster\nmetadata:\n  name: {cluster}\n  labels:\n    env: dev\nspec:\n  environment: dev\n"
            ),
        );
    }
}

/// A fleet with `clusters` and one app, `web` (namespace `web`, prune and
/// self-heal on), whose base is the ConfigMap `web-config` with
/// `GREETING: hello`.
pub fn web_fleet(root: &Path, clusters: &[&str]) {
    fleet(root, clusters);
    write(
        root,
        "apps/web/app.yaml",
        &app_yaml("web", "web", true, true, ""),
    );
    write(
        root,
        "apps/web/base/config.yaml",
        &config_map("web-config", "GREETING", "hello"),
    );
}

/// The `app.yaml` of an app in `namespace` with a sync policy and extra spec lines.
pub fn app_yaml(name: &str, namespace: &str, prune: bool, self_heal: bool, extra: &str) -> String {
    format!(
        "apiVersion: fleet/v1alpha1\nkind: App\nmetadata:\n  name: {name}\nspec:\n  namespace: {namespace}\n  sync:\n    prune: {prune}\n    selfHeal: {self_heal}\n{extra}"
    )
}

/// A ConfigMap manifest.
pub fn config_map(name: &str, key: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  {key}: \"{value}\"\n"
    )
}

/// A Deployment manifest with one container.
pub fn deployment(name: &str, image: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n        - name: {name}\n          image: {image}\n"
    )
}
