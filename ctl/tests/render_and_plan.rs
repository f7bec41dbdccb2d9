//! `fleetctl render`, `validate` and `plan` on the example fleet and on real
//! Git repositories with several commits, read straight from the object
//! database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::{GitRepository, examples, fleetctl, git};

fn examples_path() -> String {
    examples().to_str().unwrap().to_owned()
}

#[test]
fn the_example_fleet_validates() {
    let run = fleetctl(&["validate", "--repo", &examples_path()]).success();
    assert!(
        run.stdout
            .starts_with("valid: 8 clusters, 3 environments, 5 apps, 4 waves"),
        "{}",
        run.stdout
    );
}

const SOPS_FILE: &str = "apps/database/base/credentials.sops.yaml";

#[test]
fn validate_lists_sops_files_with_their_recipients_and_refuses_a_malformed_one() {
    let run = fleetctl(&["validate", "--repo", &examples_path()]).success();
    let recipient = std::fs::read_to_string(examples().join("sops-demo-key/TEST-KEY.agekey"))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    assert!(
        run.stdout.contains(&format!(
            "sops: {SOPS_FILE} (1 document), recipients: {recipient}"
        )),
        "{}",
        run.stdout
    );
    // A value written in clear where SOPS encrypts is refused at the file.
    let repository = GitRepository::with_content(&examples());
    let text = repository.read(SOPS_FILE);
    let edited = text.replace("stringData:\n", "stringData:\n    leaked: in-clear-text\n");
    assert_ne!(text, edited);
    repository.write(SOPS_FILE, &edited);
    let run = fleetctl(&["validate", "--repo", repository.path_str()]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!(
            "{SOPS_FILE}:1: value at stringData:leaked is not a valid SOPS encrypted value"
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("demo-only-postgres-password"));
}

#[test]
fn rendering_the_same_cluster_twice_gives_identical_bytes_and_digest() {
    let first = fleetctl(&[
        "render",
        "--repo",
        &examples_path(),
        "--cluster",
        "prod-eu-1",
    ])
    .success();
    let second = fleetctl(&[
        "render",
        "--repo",
        &examples_path(),
        "--cluster",
        "prod-eu-1",
    ])
    .success();
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(first.stderr, second.stderr);
    assert!(
        first.stderr.starts_with("digest: sha256:"),
        "{}",
        first.stderr
    );
    // Every object is labelled for its app and cluster and sorted in apply order:
    // the CRD before the custom resources that need it.
    // Document separators are lines of their own (a SOPS envelope's armored
    // key also holds "-----" inside a block scalar).
    let documents = first.stdout.lines().filter(|line| *line == "---").count();
    assert_eq!(
        first.stdout.matches("fleet/cluster: prod-eu-1").count(),
        documents
    );
    let crd = first.stdout.find("kind: CustomResourceDefinition").unwrap();
    let custom_resource = first.stdout.find("kind: ServiceMonitor").unwrap();
    assert!(crd < custom_resource);

    let json = fleetctl(&[
        "render",
        "--repo",
        &examples_path(),
        "--cluster",
        "prod-eu-1",
        "-o",
        "json",
    ])
    .success();
    let list: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap().len(), documents);
}

#[test]
fn unknown_cluster_and_app_are_clear_input_errors() {
    let run = fleetctl(&["render", "--repo", &examples_path(), "--cluster", "nope"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error: unknown cluster 'nope'"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: clusters in this repository: dev-eu-1"),
        "{}",
        run.stderr
    );
    let run = fleetctl(&[
        "render",
        "--repo",
        &examples_path(),
        "--cluster",
        "dev-eu-1",
        "--app",
        "monitoring",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("app 'monitoring' is not deployed to cluster 'dev-eu-1'"),
        "{}",
        run.stderr
    );
}

const SMALL_FLEET: &[(&str, &str)] = &[
    (
        "fleet.yaml",
        "apiVersion: fleet/v1alpha1\nkind: Fleet\nmetadata:\n  name: small\nspec:\n  vars:\n    registry: registry.example.com\n",
    ),
    (
        "environments/dev.yaml",
        "apiVersion: fleet/v1alpha1\nkind: Environment\nmetadata:\n  name: dev\nspec:\n  vars:\n    replicas: 1\n    logLevel: debug\n",
    ),
    (
        "environments/prod.yaml",
        "apiVersion: fleet/v1alpha1\nkind: Environment\nmetadata:\n  name: prod\nspec:\n  vars:\n    replicas: 3\n    logLevel: warn\n",
    ),
    (
        "clusters/one-dev.yaml",
        "apiVersion: fleet/v1alpha1\nkind: Cluster\nmetadata:\n  name: one-dev\nspec:\n  environment: dev\n  vars:\n    zone: eu-1\n",
    ),
    (
        "clusters/one-prod.yaml",
        "apiVersion: fleet/v1alpha1\nkind: Cluster\nmetadata:\n  name: one-prod\nspec:\n  environment: prod\n  vars:\n    zone: us-2\n",
    ),
    (
        "apps/web/app.yaml",
        "apiVersion: fleet/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  namespace: web\n",
    ),
    (
        "apps/web/base/web.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  LOG_LEVEL: ${logLevel}\n  ZONE: ${zone}\n  LITERAL: $${zone}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: \"${replicas}\"\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${registry}/web:1.0.0\n",
    ),
];

#[test]
fn clusters_in_different_environments_differ_exactly_where_their_vars_differ() {
    let directory = tempfile::tempdir().unwrap();
    for (path, text) in SMALL_FLEET {
        let full = directory.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    let repo = directory.path().to_str().unwrap();
    let dev = fleetctl(&["render", "--repo", repo, "--cluster", "one-dev"]).success();
    let prod = fleetctl(&["render", "--repo", repo, "--cluster", "one-prod"]).success();
    let dev_lines: Vec<&str> = dev.stdout.lines().collect();
    let prod_lines: Vec<&str> = prod.stdout.lines().collect();
    assert_eq!(
        dev_lines.len(),
        prod_lines.len(),
        "same shape:\n{}\n{}",
        dev.stdout,
        prod.stdout
    );
    let differences: Vec<(&str, &str)> = dev_lines
        .iter()
        .zip(&prod_lines)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.trim(), b.trim()))
        .collect();
    assert_eq!(
        differences,
        [
            ("fleet/cluster: one-dev", "fleet/cluster: one-prod"),
            ("LOG_LEVEL: debug", "LOG_LEVEL: warn"),
            ("ZONE: eu-1", "ZONE: us-2"),
            ("fleet/cluster: one-dev", "fleet/cluster: one-prod"),
            ("replicas: 1", "replicas: 3"),
        ]
    );
    // Typed substitution and escapes, as a user sees them.
    assert!(dev.stdout.contains("LITERAL: ${zone}"), "{}", dev.stdout);
    assert!(
        dev.stdout.contains("image: registry.example.com/web:1.0.0"),
        "{}",
        dev.stdout
    );
}

/// Wave → (changed clusters, unchanged count) from `plan -o json`.
fn waves(plan: &Value) -> Vec<(String, Vec<String>, u64)> {
    plan["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|wave| {
            let changed = wave["changed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|cluster| cluster["cluster"].as_str().unwrap().to_owned())
                .collect();
            (
                wave["wave"].as_str().unwrap().to_owned(),
                changed,
                wave["unchanged"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn renders_and_plans_across_commits_read_from_the_object_database() {
    let repository = GitRepository::with_content(&examples());
    let first = repository.commit("Initial fleet");
    repository.edit(
        "apps/monitoring/base/deployment.yaml",
        "metrics-collector:0.9.1",
        "metrics-collector:0.9.2",
    );
    let second = repository.commit("monitoring: collector 0.9.2");
    // Break the working tree: everything below must come from Git objects.
    std::fs::remove_dir_all(repository.path().join("apps")).unwrap();
    let repo = repository.path_str();

    let old = fleetctl(&[
        "render",
        "--repo",
        repo,
        "--rev",
        &first,
        "--cluster",
        "prod-eu-2",
        "--app",
        "monitoring",
    ])
    .success();
    let new = fleetctl(&[
        "render",
        "--repo",
        repo,
        "--rev",
        "main",
        "--cluster",
        "prod-eu-2",
        "--app",
        "monitoring",
    ])
    .success();
    assert!(
        old.stdout
            .contains("image: ghcr.io/example/metrics-collector:0.9.1"),
        "{}",
        old.stdout
    );
    assert!(
        new.stdout
            .contains("image: ghcr.io/example/metrics-collector:0.9.2"),
        "{}",
        new.stdout
    );
    assert!(
        old.stderr.contains(&format!("revision {first}")),
        "{}",
        old.stderr
    );
    assert!(
        new.stderr.contains(&format!("revision {second}")),
        "{}",
        new.stderr
    );
    assert_ne!(
        old.stderr.split(' ').nth(1),
        new.stderr.split(' ').nth(1),
        "digests differ"
    );
    // A tag names a revision too; HEAD~1 is the first commit.
    git(repository.path(), &["tag", "v1", &first]);
    let tagged = fleetctl(&[
        "render",
        "--repo",
        repo,
        "--rev",
        "v1",
        "--cluster",
        "prod-eu-2",
        "--app",
        "monitoring",
    ])
    .success();
    assert_eq!(tagged.stdout, old.stdout);

    // The plan lists only the clusters the monitoring app reaches, by wave.
    let plan = fleetctl(&[
        "plan", "--repo", repo, "--from", &first, "--to", &second, "-o", "json",
    ])
    .success();
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(plan["from"], first.as_str());
    assert_eq!(plan["to"], second.as_str());
    let strings = |names: &[&str]| {
        names
            .iter()
            .map(|name| (*name).to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        waves(&plan),
        [
            (
                "canary".to_owned(),
                strings(&["prod-eu-1", "staging-eu-1"]),
                0
            ),
            ("dev".to_owned(), strings(&[]), 2),
            ("staging".to_owned(), strings(&["staging-us-1"]), 0),
            (
                "production".to_owned(),
                strings(&["prod-eu-2", "prod-us-1", "prod-us-2"]),
                0
            ),
        ]
    );
    for wave in plan["waves"].as_array().unwrap() {
        for cluster in wave["changed"].as_array().unwrap() {
            let objects = cluster["objects"].as_array().unwrap();
            assert_eq!(objects.len(), 1, "{cluster}");
            assert_eq!(objects[0]["app"], "monitoring");
            assert_eq!(objects[0]["change"], "changed");
            assert_eq!(objects[0]["object"]["kind"], "Deployment");
            let diff = objects[0]["diff"].as_str().unwrap();
            assert!(
                diff.contains("-        image: ghcr.io/example/metrics-collector:0.9.1"),
                "{diff}"
            );
            assert!(
                diff.contains("+        image: ghcr.io/example/metrics-collector:0.9.2"),
                "{diff}"
            );
        }
    }

    let human = fleetctl(&["plan", "--repo", repo, "--from", &first, "--to", &second]).success();
    assert!(
        human.stdout.contains("6 of 8 clusters change"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("wave dev: no changes (2 unchanged)"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("~ Deployment.apps monitoring/metrics-collector (app monitoring)"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_commit_that_fails_to_render_cannot_be_planned_and_names_file_and_line() {
    let repository = GitRepository::with_content(&examples());
    let good = repository.commit("Initial fleet");
    repository.edit(
        "apps/web/base/configmap.yaml",
        "\ndata:\n",
        "\ndata:\n  BROKEN: ${no.such.var}\n",
    );
    let bad = repository.commit("web: typo");
    let repo = repository.path_str();
    let run = fleetctl(&["plan", "--repo", repo, "--from", &good, "--to", &bad]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = repository
        .read("apps/web/base/configmap.yaml")
        .lines()
        .position(|line| line.contains("no.such.var"))
        .unwrap()
        + 1;
    assert!(
        run.stderr.contains(&format!(
            "error: apps/web/base/configmap.yaml:{line}: unknown variable '${{no.such.var}}'"
        )),
        "{}",
        run.stderr
    );
    // The previous commit still validates.
    fleetctl(&["validate", "--repo", repo, "--rev", &good]).success();
    let run = fleetctl(&["validate", "--repo", repo, "--rev", &bad, "-o", "json"]);
    assert_eq!(run.code, 1);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"][0]["file"], "apps/web/base/configmap.yaml");
    assert_eq!(report["errors"][0]["line"], line);
}

#[test]
fn a_bare_repository_is_read_at_head() {
    let repository = GitRepository::with_content(&examples());
    let commit = repository.commit("Initial fleet");
    let bare = tempfile::tempdir().unwrap();
    let bare_path = bare.path().join("fleet.git");
    git(
        repository.path(),
        &[
            "clone",
            "--quiet",
            "--bare",
            repository.path_str(),
            bare_path.to_str().unwrap(),
        ],
    );
    let run = fleetctl(&[
        "render",
        "--repo",
        bare_path.to_str().unwrap(),
        "--cluster",
        "dev-us-1",
    ])
    .success();
    assert!(
        run.stderr.contains(&format!("revision {commit}")),
        "{}",
        run.stderr
    );
}

#[test]
fn bench_render_renders_a_generated_fleet_and_reloads_it_after_a_commit() {
    let run = fleetctl(&[
        "bench",
        "render",
        "--clusters",
        "60",
        "--apps",
        "3",
        "--runs",
        "2",
        "-o",
        "json",
    ])
    .success();
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["clusters"], 60);
    assert_eq!(report["apps"], 3);
    assert_eq!(report["runs"], 2);
    assert!(report["appRenders"].as_u64().unwrap() >= 60, "{report}");
    assert!(
        report["objects"].as_u64().unwrap() >= report["appRenders"].as_u64().unwrap(),
        "{report}"
    );
    // The reload after the one-file commit ran once per run.
    assert_eq!(report["reloadMs"].as_array().unwrap().len(), 2, "{report}");
}

#[test]
fn bench_render_generates_helm_apps_with_one_helm_run_per_environment() {
    let run = fleetctl(&[
        "bench",
        "render",
        "--clusters",
        "30",
        "--apps",
        "1",
        "--helm-apps",
        "1",
        "--runs",
        "1",
        "-o",
        "json",
    ])
    .success();
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["helmApps"], 1, "{report}");
    // 30 clusters in 3 environments, values per environment: 3 Helm runs.
    assert_eq!(report["stats"]["helmRuns"], 3, "{report}");
    // Two objects (ConfigMap, Deployment) per cluster from the chart.
    let plain_app_objects = report["objects"].as_u64().unwrap() - 2 * 30;
    assert_eq!(plain_app_objects % 3, 0, "{report}");
}
