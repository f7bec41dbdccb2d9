//! Unit tests of server-side apply semantics.

use serde_json::{Value, json};

use super::*;

fn options<'a>(manager: &'a str, force: bool) -> ApplyOptions<'a> {
    ApplyOptions {
        manager,
        force,
        scope: Scope::Main {
            status_separate: true,
        },
        api_version: "apps/v1",
        now: "2026-01-01T00:00:00Z",
    }
}

fn deployment(replicas: i64, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "default"},
           "spec": {"replicas": replicas,
                    "template": {"spec": {"containers": [{"name": "web", "image": image}]}}}})
}

#[test]
fn second_manager_with_a_different_value_conflicts_unless_forced() {
    let first = server_side_apply(None, &deployment(2, "nginx"), &options("alpha", false)).unwrap();
    let conflicts = server_side_apply(
        Some(&first),
        &deployment(3, "nginx"),
        &options("beta", false),
    )
    .unwrap_err();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        conflict_message(&conflicts),
        "Apply failed with 1 conflict: conflict with \"alpha\": .spec.replicas"
    );
    // The same value is shared ownership, not a conflict.
    let shared = server_side_apply(
        Some(&first),
        &deployment(2, "nginx"),
        &options("beta", false),
    )
    .unwrap();
    assert_eq!(read_entries(&shared).len(), 2);
    let forced = server_side_apply(
        Some(&first),
        &deployment(3, "nginx"),
        &options("beta", true),
    )
    .unwrap();
    assert_eq!(forced["spec"]["replicas"], json!(3));
    let alpha = read_entries(&forced)
        .into_iter()
        .find(|entry| entry.manager == "alpha")
        .unwrap();
    assert!(
        !alpha
            .fields
            .iter()
            .any(|path| DisplayPath(path).to_string() == ".spec.replicas")
    );
}

#[test]
fn fields_no_longer_applied_are_removed_unless_owned_elsewhere() {
    let mut with_label = deployment(2, "nginx");
    with_label["metadata"]["labels"] = json!({"team": "a"});
    let first = server_side_apply(None, &with_label, &options("alpha", false)).unwrap();
    assert_eq!(first["metadata"]["labels"]["team"], json!("a"));
    let second = server_side_apply(
        Some(&first),
        &deployment(2, "nginx"),
        &options("alpha", false),
    )
    .unwrap();
    assert!(second["metadata"].get("labels").is_none(), "{second}");
}

#[test]
fn containers_merge_by_name_across_managers() {
    let first = server_side_apply(None, &deployment(1, "nginx"), &options("alpha", false)).unwrap();
    let sidecar = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": "envoy"}]}}}});
    let merged = server_side_apply(Some(&first), &sidecar, &options("beta", false)).unwrap();
    let names: Vec<&str> = merged["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|container| container["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["web", "proxy"]);
    let fields = &merged["metadata"]["managedFields"][1]["fieldsV1"];
    assert!(
        fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"proxy\"}"]
            .is_object()
    );
}

#[test]
fn an_update_takes_changed_fields_from_the_applier() {
    let applied =
        server_side_apply(None, &deployment(2, "nginx"), &options("alpha", false)).unwrap();
    let mut updated = applied.clone();
    updated["spec"]["replicas"] = json!(5);
    record_update(
        Some(&applied),
        &mut updated,
        "kubectl-scale",
        Scope::Main {
            status_separate: true,
        },
        "apps/v1",
        "now",
    );
    let entries = read_entries(&updated);
    let scaler = entries
        .iter()
        .find(|entry| entry.manager == "kubectl-scale")
        .unwrap();
    assert_eq!(scaler.operation, Operation::Update);
    assert_eq!(scaler.fields.len(), 1);
    // Re-applying the old value now conflicts with the scaler.
    assert!(
        server_side_apply(
            Some(&updated),
            &deployment(2, "nginx"),
            &options("alpha", false)
        )
        .is_err()
    );
}
