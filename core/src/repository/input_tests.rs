//! Property tests: whatever an author writes in the fields parsed from user
//! input (durations, maxParallel, selectors, variables, YAML itself), loading
//! the repository returns the repository or errors with a file and line —
//! it never panics.

use proptest::prelude::*;

use super::FleetRepository;
use crate::rollout::WavePlan;
use crate::test_support::example;

/// The example fleet.yaml with the first wave's fields replaced.
fn fleet_yaml(bake: &str, max_parallel: &str, key: &str, operator: &str, value: &str) -> String {
    let original = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fleet-examples/fleet.yaml"
    ))
    .unwrap();
    original.replacen(
        "        selector:\n          matchLabels:\n            tier: canary\n        bake: 2m\n",
        &format!(
            "        selector:\n          matchExpressions:\n            - key: {key}\n              operator: {operator}\n              values: [{value}]\n        bake: {bake}\n        maxParallel: {max_parallel}\n"
        ),
        1,
    )
}

fn load_never_panics(edits: &[(&str, &str)]) -> Result<(), TestCaseError> {
    match FleetRepository::load(example(edits)) {
        Ok(repository) => {
            let plan = WavePlan::assign(&repository.fleet.spec, &repository.clusters);
            for wave in &plan.waves {
                if let Some(limit) = wave.spec.as_ref().and_then(|spec| spec.max_parallel) {
                    prop_assert!(limit.limit(wave.clusters.len()) >= 1);
                }
            }
        }
        Err(problems) => {
            for problem in &problems.0 {
                prop_assert!(
                    problem.file.is_some() && problem.line.is_some(),
                    "{problem}"
                );
            }
        }
    }
    Ok(())
}

/// A scalar: either raw text (may break the YAML) or quoted (reaches the parser).
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,24}",
        "\\PC{0,24}".prop_map(|text| serde_json::to_string(&text).unwrap()),
        "[0-9]{1,22}(ms|s|m|h|%)?([0-9]{1,22}(ms|s|m|h))?",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn wave_fields_load_or_fail_with_a_location(
        bake in scalar(),
        max_parallel in scalar(),
        key in scalar(),
        operator in prop_oneof![Just("In".to_owned()), Just("Exists".to_owned()), scalar()],
        value in scalar(),
    ) {
        let fleet = fleet_yaml(&bake, &max_parallel, &key, &operator, &value);
        load_never_panics(&[("fleet.yaml", &fleet)])?;
    }

    #[test]
    fn any_app_file_loads_or_fails_with_a_location(text in "\\PC{0,200}") {
        load_never_panics(&[("apps/web/app.yaml", &text)])?;
    }

    #[test]
    fn app_targets_and_vars_load_or_fail_with_a_location(
        key in scalar(),
        value in scalar(),
        variable in scalar(),
    ) {
        let app = format!(
            "apiVersion: fleet/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  namespace: web\n  targets:\n    matchLabels:\n      {key}: {value}\n  healthTimeout: {variable}\n"
        );
        load_never_panics(&[("apps/web/app.yaml", &app)])?;
    }
}
