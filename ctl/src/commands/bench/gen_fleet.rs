//! `fleetctl bench gen-fleet`: a realistic generated fleet repository, as a
//! Git repository with one commit, for benchmarks and scale tests.
//!
//! Clusters spread over three environments (20 % dev, 20 % staging, 60 %
//! prod) and three regions; one in fifty is a canary. Apps mix what real
//! fleets have: some reach every cluster, some only production or some
//! regions, some have a production overlay, and one in five uses the
//! cluster's name (so its output is unique per cluster). `--helm-apps`
//! adds Helm apps: an in-repo chart each, with a values file per
//! environment and `replicaCount: ${replicas}` (so one Helm run per app and
//! environment).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};

use crate::cli::{FleetSizeArgs, GenFleetArgs};
use crate::error::CliError;
use crate::git_cli::git;

const REGIONS: [&str; 3] = ["eu", "us", "ap"];

pub fn run(args: &GenFleetArgs) -> Result<(), CliError> {
    generate(&args.out, &args.size)?;
    println!(
        "wrote a fleet of {} clusters, {} apps and {} Helm apps to {} (a Git repository on branch main)",
        args.size.clusters,
        args.size.apps,
        args.size.helm_apps,
        args.out.display()
    );
    Ok(())
}

/// The environment of the `index`-th generated cluster.
fn environment_of(index: usize) -> &'static str {
    match index % 10 {
        0 | 1 => "dev",
        2 | 3 => "staging",
        _ => "prod",
    }
}

/// Writes the fleet into `directory` and commits it.
pub fn generate(directory: &Path, size: &FleetSizeArgs) -> anyhow::Result<()> {
    if directory.exists() && directory.read_dir()?.next().is_some() {
        bail!("{} exists and is not empty", directory.display());
    }
    let write = |path: &str, text: &str| -> anyhow::Result<()> {
        let full = directory.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&full, text).with_context(|| format!("writing {}", full.display()))
    };
    write("fleet.yaml", FLEET)?;
    for (environment, replicas) in [("dev", 1), ("staging", 2), ("prod", 3)] {
        write(
            &format!("environments/{environment}.yaml"),
            &format!(
                "apiVersion: fleet/v1alpha1\nkind: Environment\nmetadata:\n  name: {environment}\nspec:\n  vars:\n    replicas: {replicas}\n    logLevel: {}\n",
                if environment == "prod" {
                    "warn"
                } else {
                    "debug"
                }
            ),
        )?;
    }
    for index in 0..size.clusters {
        let environment = environment_of(index);
        let region = REGIONS[index % REGIONS.len()];
        let name = format!("{environment}-{region}-{index:05}");
        let tier = if index % 50 == 7 {
            "canary"
        } else {
            "standard"
        };
        write(
            &format!("clusters/{name}.yaml"),
            &format!(
                "apiVersion: fleet/v1alpha1\nkind: Cluster\nmetadata:\n  name: {name}\n  labels:\n    env: {environment}\n    region: {region}\n    tier: {tier}\nspec:\n  environment: {environment}\n  vars:\n    zone: {region}-{}\n",
                index % 3
            ),
        )?;
    }
    for index in 0..size.apps {
        write_app(&write, index)?;
    }
    for index in 0..size.helm_apps {
        write_helm_app(&write, index)?;
    }
    commit(directory)
}

fn write_app(write: &dyn Fn(&str, &str) -> anyhow::Result<()>, index: usize) -> anyhow::Result<()> {
    let name = format!("app-{index:02}");
    let targets = match index % 4 {
        3 => "  targets:\n    environments: [prod]\n",
        2 => {
            "  targets:\n    matchExpressions:\n      - {key: region, operator: In, values: [eu, us]}\n"
        }
        _ => "",
    };
    write(
        &format!("apps/{name}/app.yaml"),
        &format!(
            "apiVersion: fleet/v1alpha1\nkind: App\nmetadata:\n  name: {name}\nspec:\n  namespace: {name}\n{targets}"
        ),
    )?;
    let identity = if index % 5 == 4 {
        "${cluster.name}"
    } else {
        "${environment.name}"
    };
    let mut base = String::new();
    let _ = write!(
        base,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-config\ndata:\n  LOG_LEVEL: ${{logLevel}}\n  IDENTITY: \"{identity}\"\n  APP: ${{app.name}}\n---\n\
         apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    app: {name}\n  ports:\n    - name: http\n      port: 80\n      targetPort: 8080\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: \"${{replicas}}\"\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n        - name: app\n          image: ${{registry}}/{name}:1.0.{index}\n          ports:\n            - name: http\n              containerPort: 8080\n          envFrom:\n            - configMapRef:\n                name: {name}-config\n          resources:\n            requests: {{cpu: 100m, memory: 128Mi}}\n"
    );
    write(&format!("apps/{name}/base/manifests.yaml"), &base)?;
    if index.is_multiple_of(3) {
        write(
            &format!("apps/{name}/overlays/prod/deployment.yaml"),
            &format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          resources:\n            limits: {{cpu: \"1\", memory: 512Mi}}\n"
            ),
        )?;
    }
    Ok(())
}

/// A Helm app: its chart in `apps/<name>/chart/`, values per environment.
fn write_helm_app(
    write: &dyn Fn(&str, &str) -> anyhow::Result<()>,
    index: usize,
) -> anyhow::Result<()> {
    let name = format!("helm-{index:02}");
    write(
        &format!("apps/{name}/app.yaml"),
        &format!(
            "apiVersion: fleet/v1alpha1\nkind: App\nmetadata:\n  name: {name}\nspec:\n  namespace: {name}\n  helm:\n    chart: chart\n    valuesFiles:\n      - values-${{environment.name}}.yaml\n    values:\n      replicaCount: ${{replicas}}\n"
        ),
    )?;
    for (environment, level) in [("dev", "debug"), ("staging", "info"), ("prod", "warn")] {
        write(
            &format!("apps/{name}/values-{environment}.yaml"),
            &format!("logLevel: {level}\nenvironment: {environment}\n"),
        )?;
    }
    let chart = format!("apps/{name}/chart");
    write(
        &format!("{chart}/Chart.yaml"),
        &format!("apiVersion: v2\nname: {name}\nversion: 1.0.{index}\n"),
    )?;
    write(
        &format!("{chart}/values.yaml"),
        "replicaCount: 1\nlogLevel: info\nenvironment: unset\nimage: registry.example.com/generated/helm:1.0\n",
    )?;
    write(
        &format!("{chart}/templates/_helpers.tpl"),
        "{{- define \"app.labels\" -}}\napp.kubernetes.io/name: {{ .Chart.Name }}\napp.kubernetes.io/instance: {{ .Release.Name }}\n{{- end -}}\n",
    )?;
    write(
        &format!("{chart}/templates/resources.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\n  labels:\n    {{- include \"app.labels\" . | nindent 4 }}\ndata:\n  LOG_LEVEL: {{ .Values.logLevel | quote }}\n  ENVIRONMENT: {{ .Values.environment | quote }}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    {{- include \"app.labels\" . | nindent 4 }}\nspec:\n  replicas: {{ .Values.replicaCount }}\n  selector:\n    matchLabels:\n      {{- include \"app.labels\" . | nindent 6 }}\n  template:\n    metadata:\n      labels:\n        {{- include \"app.labels\" . | nindent 8 }}\n    spec:\n      containers:\n        - name: app\n          image: {{ .Values.image }}\n",
    )?;
    Ok(())
}

const FLEET: &str = "apiVersion: fleet/v1alpha1
kind: Fleet
metadata:
  name: generated
spec:
  git:
    branch: main
  vars:
    registry: registry.example.com/generated
  rollout:
    waves:
      - name: canary
        selector: {matchLabels: {tier: canary}}
      - name: dev
        selector: {matchLabels: {env: dev}}
      - name: staging
        selector: {matchLabels: {env: staging}}
      - name: production
        selector: {matchLabels: {env: prod}}
        maxParallel: 25%
    maxFailures: 0
    progressDeadline: 10m
    onFailure: rollback
";

fn commit(directory: &Path) -> anyhow::Result<()> {
    git(directory, &["init", "--quiet", "--initial-branch=main"])?;
    git(directory, &["add", "--all"])?;
    git(
        directory,
        &["commit", "--quiet", "--message", "Generated fleet"],
    )?;
    Ok(())
}
