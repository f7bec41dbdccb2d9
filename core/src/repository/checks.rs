//! Checks across files: references between clusters, environments, apps and waves.

use std::collections::{BTreeMap, BTreeSet};

use super::loader::LoadedFiles;
use crate::diagnostic::Diagnostics;
use crate::model::LabelSelector;

pub(super) fn check(repository: &LoadedFiles) -> Diagnostics {
    let mut problems = Diagnostics::new();
    check_clusters(repository, &mut problems);
    check_apps(repository, &mut problems);
    check_dependency_cycles(repository, &mut problems);
    if let Some(fleet) = &repository.fleet {
        check_waves(fleet, &mut problems);
        check_windows(fleet, &mut problems);
    }
    problems
}

fn check_clusters(repository: &LoadedFiles, problems: &mut Diagnostics) {
    for cluster in repository.clusters.values() {
        let environment = &cluster.spec.environment;
        if environment.is_empty() {
            problems.push(cluster.diagnostic("/spec", "spec.environment is required"));
        } else if !repository.environments.contains_key(environment)
            && !repository.unreadable_environments.contains(environment)
        {
            problems.push(cluster.diagnostic(
                "/spec/environment",
                format!(
                    "unknown environment '{environment}' (no environments/{environment}.yaml; known: {})",
                    known(repository.environments.keys())
                ),
            ));
        }
    }
}

fn check_apps(repository: &LoadedFiles, problems: &mut Diagnostics) {
    for app in repository.apps.values() {
        if let Some(targets) = &app.spec.targets {
            check_selector(&targets.selector(), problems, |index, message| {
                app.diagnostic(&format!("/spec/targets/matchExpressions/{index}"), message)
            });
            for (index, environment) in targets.environments.iter().flatten().enumerate() {
                if !repository.environments.contains_key(environment)
                    && !repository.unreadable_environments.contains(environment)
                {
                    problems.push(app.diagnostic(
                        &format!("/spec/targets/environments/{index}"),
                        format!("targets unknown environment '{environment}'"),
                    ));
                }
            }
        }
        for (index, dependency) in app.spec.depends_on.iter().enumerate() {
            let pointer = format!("/spec/dependsOn/{index}");
            if dependency == &app.name {
                problems.push(
                    app.diagnostic(&pointer, format!("app '{}' depends on itself", app.name)),
                );
            } else if !repository.apps.contains_key(dependency)
                && !repository.unreadable_apps.contains(dependency)
            {
                problems.push(app.diagnostic(
                    &pointer,
                    format!(
                        "dependsOn names unknown app '{dependency}' (no apps/{dependency}/app.yaml)"
                    ),
                ));
            }
        }
        // The timeout travels in whole seconds; a sub-second one would turn
        // into 0, which means "no timeout".
        if let Some(timeout) = app.spec.health_timeout
            && timeout.0 < std::time::Duration::from_secs(1)
        {
            problems.push(app.diagnostic(
                "/spec/healthTimeout",
                format!(
                    "healthTimeout {timeout} is below the minimum of 1s (omit it for no timeout)"
                ),
            ));
        }
        for (index, ignored) in app.spec.ignore_differences.iter().enumerate() {
            for (pointer_index, pointer) in ignored.json_pointers.iter().enumerate() {
                if !pointer.starts_with('/') {
                    problems.push(app.diagnostic(
                        &format!("/spec/ignoreDifferences/{index}/jsonPointers/{pointer_index}"),
                        format!("'{pointer}' is not a JSON pointer (it must start with '/')"),
                    ));
                }
            }
        }
    }
}

fn check_selector(
    selector: &LabelSelector,
    problems: &mut Diagnostics,
    at: impl Fn(usize, String) -> crate::diagnostic::Diagnostic,
) {
    if let Err((index, message)) = selector.check() {
        problems.push(at(index, message));
    }
}

/// Finds `dependsOn` cycles; each is reported once, at the entry of its
/// alphabetically first app that starts the cycle.
fn check_dependency_cycles(repository: &LoadedFiles, problems: &mut Diagnostics) {
    let mut reported: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    for start in repository.apps.keys() {
        let mut path = vec![start.clone()];
        if let Some(cycle) = find_cycle(repository, start, &mut path) {
            let members: BTreeSet<String> = cycle.iter().cloned().collect();
            if !reported.insert(members) {
                continue;
            }
            let Some(app) = repository.apps.get(&cycle[0]) else {
                continue;
            };
            let index = app
                .spec
                .depends_on
                .iter()
                .position(|dependency| Some(dependency) == cycle.get(1))
                .unwrap_or(0);
            let mut shown = cycle.clone();
            shown.push(cycle[0].clone());
            problems.push(app.diagnostic(
                &format!("/spec/dependsOn/{index}"),
                format!("dependsOn cycle: {}", shown.join(" -> ")),
            ));
        }
    }
}

fn find_cycle(
    repository: &LoadedFiles,
    current: &str,
    path: &mut Vec<String>,
) -> Option<Vec<String>> {
    let app = repository.apps.get(current)?;
    for dependency in &app.spec.depends_on {
        if dependency == current {
            continue; // reported as a self-dependency
        }
        if let Some(position) = path.iter().position(|name| name == dependency) {
            if position == 0 {
                return Some(path.clone());
            }
            continue; // a cycle not through the start; found from its own start
        }
        path.push(dependency.clone());
        if let Some(cycle) = find_cycle(repository, dependency, path) {
            return Some(cycle);
        }
        path.pop();
    }
    None
}

fn check_waves(fleet: &crate::model::Fleet, problems: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, wave) in fleet.spec.rollout.waves.iter().enumerate() {
        let pointer = format!("/spec/rollout/waves/{index}");
        if wave.name.trim().is_empty() {
            problems.push(fleet.diagnostic(&format!("{pointer}/name"), "a wave needs a name"));
        } else if let Some(first) = seen.insert(wave.name.as_str(), index) {
            problems.push(fleet.diagnostic(
                &format!("{pointer}/name"),
                format!(
                    "duplicate wave name '{}' (first used at line {})",
                    wave.name,
                    fleet.document.line_of(&format!("/spec/rollout/waves/{first}/name"))
                ),
            ));
        }
        check_gates(fleet, &pointer, &wave.gates, problems);
        if let Some(selector) = &wave.selector {
            check_selector(selector, problems, |expression, message| {
                fleet.diagnostic(
                    &format!("{pointer}/selector/matchExpressions/{expression}"),
                    message,
                )
            });
        }
    }
}

/// Metric gates (issue #19): unique names, a query, at least one finite
/// bound, an interval of at least a second.
fn check_gates(
    fleet: &crate::model::Fleet,
    wave: &str,
    gates: &[crate::model::GateSpec],
    problems: &mut Diagnostics,
) {
    let mut seen = BTreeSet::new();
    for (index, gate) in gates.iter().enumerate() {
        let pointer = format!("{wave}/gates/{index}");
        if gate.name.trim().is_empty() {
            problems.push(fleet.diagnostic(&format!("{pointer}/name"), "a gate needs a name"));
        } else if !seen.insert(gate.name.as_str()) {
            problems.push(fleet.diagnostic(
                &format!("{pointer}/name"),
                format!("duplicate gate name '{}' in this wave", gate.name),
            ));
        }
        if gate.prometheus.query.trim().is_empty() {
            problems.push(fleet.diagnostic(
                &format!("{pointer}/prometheus/query"),
                "a gate needs a Prometheus query",
            ));
        }
        let bounds = [("max", gate.prometheus.max), ("min", gate.prometheus.min)];
        if bounds.iter().all(|(_, bound)| bound.is_none()) {
            problems.push(fleet.diagnostic(
                &format!("{pointer}/prometheus"),
                "a gate needs a bound: max, min or both",
            ));
        }
        for (key, bound) in bounds {
            if bound.is_some_and(|bound| !bound.0.is_finite()) {
                problems.push(fleet.diagnostic(
                    &format!("{pointer}/prometheus/{key}"),
                    format!("a gate's {key} must be a finite number"),
                ));
            }
        }
        if gate.interval.0 < std::time::Duration::from_secs(1) {
            problems.push(fleet.diagnostic(
                &format!("{pointer}/interval"),
                "a gate's interval must be at least 1s",
            ));
        }
    }
}

/// Sync windows (issue #19): a 5-field cron schedule, a known IANA time
/// zone, a duration, and waves that exist.
fn check_windows(fleet: &crate::model::Fleet, problems: &mut Diagnostics) {
    let rollout = &fleet.spec.rollout;
    let mut waves: BTreeSet<&str> = rollout
        .waves
        .iter()
        .map(|wave| wave.name.as_str())
        .collect();
    if rollout.waves.is_empty() {
        waves.insert(crate::rollout::ALL_WAVE);
    } else {
        waves.insert(crate::rollout::REMAINING_WAVE);
    }
    for (index, window) in rollout.windows.iter().enumerate() {
        let pointer = format!("/spec/rollout/windows/{index}");
        if let Err(error) = crate::rollout::parse_schedule(&window.schedule) {
            problems.push(fleet.diagnostic(&format!("{pointer}/schedule"), error.to_string()));
        }
        if let Err(error) = crate::rollout::parse_timezone(&window.timezone) {
            problems.push(fleet.diagnostic(&format!("{pointer}/timezone"), error.to_string()));
        }
        if window.duration.0.is_zero() {
            problems.push(fleet.diagnostic(
                &format!("{pointer}/duration"),
                "a window's duration must be longer than zero",
            ));
        }
        for (position, wave) in window.waves.iter().enumerate() {
            if !waves.contains(wave.as_str()) {
                problems.push(fleet.diagnostic(
                    &format!("{pointer}/waves/{position}"),
                    format!(
                        "window names unknown wave '{wave}' (waves: {})",
                        waves.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    }
}

fn known<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use crate::repository::FleetRepository;
    use crate::test_support::example;

    #[test]
    fn a_sub_second_health_timeout_is_refused_at_its_line() {
        let web = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fleet-examples/apps/web/app.yaml"
        ))
        .unwrap();
        let line = web
            .lines()
            .position(|line| line.contains("healthTimeout"))
            .unwrap()
            + 1;
        let edited = web.replace("healthTimeout: 5m", "healthTimeout: 500ms");
        let problems = FleetRepository::load(example(&[("apps/web/app.yaml", &edited)]))
            .unwrap_err()
            .to_string();
        assert!(
            problems.contains(&format!(
                "apps/web/app.yaml:{line}: healthTimeout 500ms is below"
            )),
            "{problems}"
        );
        // One second and more is fine.
        let edited = web.replace("healthTimeout: 5m", "healthTimeout: 1s");
        FleetRepository::load(example(&[("apps/web/app.yaml", &edited)])).unwrap();
    }

    #[test]
    fn metric_gates_need_a_bound_a_unique_name_and_a_real_interval() {
        let fleet = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fleet-examples/fleet.yaml"
        ))
        .unwrap();
        let gates = "        gates:\n          - name: errors\n            prometheus:\n              query: up\n            interval: 500ms\n          - name: errors\n            prometheus:\n              query: up\n              min: 1\n      - name: dev";
        let edited = fleet.replacen("      - name: dev", gates, 1);
        let line = |needle: &str, nth: usize| {
            edited
                .lines()
                .enumerate()
                .filter(|(_, line)| line.contains(needle))
                .nth(nth)
                .unwrap()
                .0
                + 1
        };
        let problems = FleetRepository::load(example(&[("fleet.yaml", &edited)]))
            .unwrap_err()
            .to_string();
        for expected in [
            format!(
                "fleet.yaml:{}: a gate needs a bound",
                line("prometheus:", 0)
            ),
            format!(
                "fleet.yaml:{}: a gate's interval must be at least 1s",
                line("interval: 500ms", 0)
            ),
            format!(
                "fleet.yaml:{}: duplicate gate name 'errors'",
                line("- name: errors", 1)
            ),
        ] {
            assert!(problems.contains(&expected), "{expected}\nin:\n{problems}");
        }
        // A gate with a bound and a sane interval is fine.
        let good = fleet.replacen(
            "      - name: dev",
            "        gates:\n          - name: errors\n            prometheus:\n              query: up\n              max: 0.01\n      - name: dev",
            1,
        );
        FleetRepository::load(example(&[("fleet.yaml", &good)])).unwrap();
    }

    #[test]
    fn fleet_yaml_git_branch_must_be_the_tracked_branch() {
        let repository = FleetRepository::load(example(&[])).unwrap();
        assert!(repository.check_tracked_branch("main").is_ok());
        let problem = repository
            .check_tracked_branch("release")
            .unwrap_err()
            .to_string();
        assert!(
            problem.starts_with(
                "fleet.yaml:7: spec.git.branch is 'main' but the hub tracks branch 'release'"
            ),
            "{problem}"
        );
    }
}
