//! `FleetRepository::load_after` gives what `load` gives, whatever changed.

use super::FleetRepository;
use crate::test_support::example;

fn summary(repository: &FleetRepository) -> String {
    format!(
        "{:?}\n{:?}",
        repository
            .clusters
            .values()
            .map(|cluster| (&cluster.name, &cluster.labels, &cluster.spec))
            .collect::<Vec<_>>(),
        repository
            .environments
            .values()
            .map(|environment| (&environment.name, &environment.spec))
            .collect::<Vec<_>>()
    )
}

const RETAGGED: &str = "apiVersion: fleet/v1alpha1
kind: Cluster
metadata:
  name: dev-eu-1
  labels:
    env: dev
    region: eu
    tier: canary
spec:
  environment: dev
  vars:
    cloudRegion: eu-central-1
";

#[test]
fn unchanged_and_changed_files_load_as_a_fresh_load_would() {
    let before = FleetRepository::load(example(&[])).unwrap();
    let same = FleetRepository::load_after(example(&[]), Some(&before)).unwrap();
    assert_eq!(summary(&same), summary(&before));

    let edited = example(&[("clusters/dev-eu-1.yaml", RETAGGED)]);
    let fresh = FleetRepository::load(edited.clone()).unwrap();
    let reused = FleetRepository::load_after(edited, Some(&before)).unwrap();
    assert_eq!(summary(&reused), summary(&fresh));
    let cluster = &reused.clusters["dev-eu-1"];
    assert_eq!(cluster.labels["tier"], "canary");
    assert_ne!(summary(&reused), summary(&before));
}

#[test]
fn a_file_broken_since_the_previous_revision_is_still_reported_with_its_line() {
    let before = FleetRepository::load(example(&[])).unwrap();
    let broken = example(&[(
        "environments/dev.yaml",
        "apiVersion: fleet/v1alpha1\nkind: Environment\nmetadata:\n  name: dev\nspec:\n  vars: [unclosed\n",
    )]);
    let fresh = FleetRepository::load(broken.clone()).unwrap_err();
    let reused = FleetRepository::load_after(broken, Some(&before)).unwrap_err();
    assert_eq!(reused.to_string(), fresh.to_string());
    assert!(
        reused.to_string().contains("environments/dev.yaml:"),
        "{reused}"
    );
}
