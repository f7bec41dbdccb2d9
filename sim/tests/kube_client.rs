//! The real `kube` crate against a simulator over HTTPS: discovery,
//! server-side apply with field managers and conflicts, the runtime watcher,
//! and a CRD registered at run time then used through discovery.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use futures::{StreamExt, TryStreamExt};
use kube::api::{
    Api, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::discovery::{Discovery, Scope};
use kube::runtime::watcher;
use serde_json::json;

use common::{eventually, fast_config, start};

fn deployment(replicas: i64) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}
            }
        }
    })
}

async fn dynamic_api(
    client: &kube::Client,
    discovery: &Discovery,
    gvk: &GroupVersionKind,
    namespace: &str,
) -> Api<DynamicObject> {
    let (resource, capabilities) = discovery.resolve_gvk(gvk).expect("kind is discoverable");
    if capabilities.scope == Scope::Namespaced {
        Api::namespaced_with(client.clone(), namespace, &resource)
    } else {
        Api::all_with(client.clone(), &resource)
    }
}

#[tokio::test]
async fn discovery_finds_builtin_groups_with_scope_and_subresources() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;
    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    let groups: Vec<String> = discovery
        .groups()
        .map(|group| group.name().to_string())
        .collect();
    for expected in [
        "",
        "apps",
        "batch",
        "rbac.authorization.k8s.io",
        "networking.k8s.io",
        "apiextensions.k8s.io",
    ] {
        assert!(
            groups.iter().any(|group| group == expected),
            "missing group {expected:?} in {groups:?}"
        );
    }
    let (deployments, capabilities) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .unwrap();
    assert_eq!(deployments.plural, "deployments");
    assert_eq!(capabilities.scope, Scope::Namespaced);
    let subresources: Vec<&str> = capabilities
        .subresources
        .iter()
        .map(|(resource, _)| resource.plural.as_str())
        .collect();
    assert!(
        subresources.contains(&"status") && subresources.contains(&"scale"),
        "{subresources:?}"
    );
    let (_, namespace_capabilities) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"))
        .unwrap();
    assert_eq!(namespace_capabilities.scope, Scope::Cluster);
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "32")
    );
}

#[tokio::test]
async fn server_side_apply_conflicts_between_managers_unless_forced() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;
    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    let api = dynamic_api(
        &client,
        &discovery,
        &GroupVersionKind::gvk("apps", "v1", "Deployment"),
        "default",
    )
    .await;

    let object: DynamicObject = serde_json::from_value(deployment(2)).unwrap();
    let applied = api
        .patch(
            "web",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&object),
        )
        .await
        .unwrap();
    assert_eq!(applied.data["spec"]["replicas"], json!(2));
    let managed = applied.metadata.managed_fields.clone().unwrap();
    assert_eq!(managed[0].manager.as_deref(), Some("fleet-agent"));
    assert_eq!(managed[0].operation.as_deref(), Some("Apply"));
    let generation = applied.metadata.generation;

    // Another manager setting a different replica count conflicts ...
    let other: DynamicObject = serde_json::from_value(deployment(5)).unwrap();
    let error = api
        .patch(
            "web",
            &PatchParams::apply("ops-team"),
            &Patch::Apply(&other),
        )
        .await
        .unwrap_err();
    let kube::Error::Api(status) = error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "Conflict");
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"fleet-agent\": .spec.replicas"
    );
    let unchanged = api.get("web").await.unwrap();
    assert_eq!(unchanged.data["spec"]["replicas"], json!(2));

    // ... and forcing takes the field over.
    let forced = api
        .patch(
            "web",
            &PatchParams::apply("ops-team").force(),
            &Patch::Apply(&other),
        )
        .await
        .unwrap();
    assert_eq!(forced.data["spec"]["replicas"], json!(5));
    assert_eq!(
        forced.metadata.generation,
        generation.map(|generation| generation + 1)
    );
    let managers: Vec<String> = forced
        .metadata
        .managed_fields
        .unwrap()
        .iter()
        .filter_map(|entry| entry.manager.clone())
        .collect();
    assert!(managers.contains(&"ops-team".to_string()), "{managers:?}");

    // The original manager re-applying without force now conflicts with ops-team.
    let error = api
        .patch(
            "web",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&object),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, kube::Error::Api(status) if status.code == 409 && status.message.contains("ops-team"))
    );
    // The agent's way: always force.
    let reverted = api
        .patch(
            "web",
            &PatchParams::apply("fleet-agent").force(),
            &Patch::Apply(&object),
        )
        .await
        .unwrap();
    assert_eq!(reverted.data["spec"]["replicas"], json!(2));
}

#[tokio::test]
async fn fields_a_manager_stops_applying_are_removed() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;
    let api: Api<DynamicObject> = Api::namespaced_with(
        client,
        "default",
        &kube::discovery::ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap")),
    );
    let with_two_keys: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "labels": {"team": "a"}},
        "data": {"a": "1", "b": "2"}
    }))
    .unwrap();
    let first = api
        .patch(
            "settings",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&with_two_keys),
        )
        .await
        .unwrap();
    // Re-applying the same configuration changes nothing, not even the resourceVersion.
    let again = api
        .patch(
            "settings",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&with_two_keys),
        )
        .await
        .unwrap();
    assert_eq!(
        again.metadata.resource_version,
        first.metadata.resource_version
    );
    let with_one_key: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings"},
        "data": {"a": "1"}
    }))
    .unwrap();
    let result = api
        .patch(
            "settings",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&with_one_key),
        )
        .await
        .unwrap();
    assert_eq!(result.data["data"], json!({"a": "1"}));
    assert!(result.metadata.labels.unwrap_or_default().is_empty());

    // dryRun=All computes the result but stores nothing.
    let with_three_keys: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings"},
        "data": {"a": "1", "c": "3"}
    }))
    .unwrap();
    let dry = api
        .patch(
            "settings",
            &PatchParams::apply("fleet-agent").dry_run(),
            &Patch::Apply(&with_three_keys),
        )
        .await
        .unwrap();
    assert_eq!(dry.data["data"], json!({"a": "1", "c": "3"}));
    let stored = api.get("settings").await.unwrap();
    assert_eq!(stored.data["data"], json!({"a": "1"}));
}

#[tokio::test]
async fn runtime_watcher_sees_applies_and_deletes() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client, "default");
    let (events_sender, mut events) = tokio::sync::mpsc::unbounded_channel();
    let watch_api = api.clone();
    let watching = tokio::spawn(async move {
        let mut stream = watcher(watch_api, watcher::Config::default().labels("app=demo")).boxed();
        while let Some(event) = stream.try_next().await.unwrap() {
            let description = match event {
                watcher::Event::Apply(object) => format!("apply {}", object.metadata.name.unwrap()),
                watcher::Event::Delete(object) => {
                    format!("delete {}", object.metadata.name.unwrap())
                }
                watcher::Event::InitDone => "init-done".to_string(),
                _ => continue,
            };
            if events_sender.send(description).is_err() {
                break;
            }
        }
    });
    assert_eq!(events.recv().await.unwrap(), "init-done");

    let config_map = |name: &str, label: &str| -> k8s_openapi::api::core::v1::ConfigMap {
        serde_json::from_value(
            json!({"metadata": {"name": name, "labels": {"app": label}}, "data": {"k": "v"}}),
        )
        .unwrap()
    };
    api.create(&PostParams::default(), &config_map("ignored", "other"))
        .await
        .unwrap();
    api.create(&PostParams::default(), &config_map("seen", "demo"))
        .await
        .unwrap();
    assert_eq!(events.recv().await.unwrap(), "apply seen");
    api.patch(
        "seen",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "changed"}})),
    )
    .await
    .unwrap();
    assert_eq!(events.recv().await.unwrap(), "apply seen");
    // Relabelling an object out of the selector looks like a deletion.
    api.patch(
        "seen",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "gone"}}})),
    )
    .await
    .unwrap();
    assert_eq!(events.recv().await.unwrap(), "delete seen");
    api.create(&PostParams::default(), &config_map("second", "demo"))
        .await
        .unwrap();
    assert_eq!(events.recv().await.unwrap(), "apply second");
    api.delete("second", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(events.recv().await.unwrap(), "delete second");
    watching.abort();
}

#[tokio::test]
async fn watch_from_an_expired_resource_version_gets_410_and_the_watcher_relists() {
    let config = common::SimConfigExt::with_watch_window(fast_config(), 5);
    let cluster = start(config).await;
    let client = cluster.client().await;
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "default");
    for index in 0..10 {
        let object: k8s_openapi::api::core::v1::ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("c{index}")}})).unwrap();
        api.create(&PostParams::default(), &object).await.unwrap();
    }
    let mut stream = api
        .watch(&kube::api::WatchParams::default(), "1")
        .await
        .unwrap()
        .boxed();
    let first = stream.try_next().await.unwrap().unwrap();
    let kube::api::WatchEvent::Error(status) = first else {
        panic!("expected an ERROR event, got {first:?}");
    };
    assert_eq!(status.code, 410);
    assert_eq!(status.reason, "Expired");

    // The runtime watcher lists first, so it starts cleanly regardless.
    let objects: Vec<_> = kube::runtime::watcher(api, watcher::Config::default())
        .take_while(|event| futures::future::ready(!matches!(event, Ok(watcher::Event::InitDone))))
        .filter_map(|event| async move {
            match event {
                Ok(watcher::Event::InitApply(object)) => object.metadata.name,
                _ => None,
            }
        })
        .collect()
        .await;
    assert_eq!(objects.len(), 10);
}

#[tokio::test]
async fn a_crd_registered_at_run_time_becomes_servable_through_discovery() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;
    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    let crd_api = dynamic_api(
        &client,
        &discovery,
        &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        "",
    )
    .await;
    let crd: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "backups.ops.example.com"},
        "spec": {
            "group": "ops.example.com",
            "scope": "Cluster",
            "names": {"plural": "backups", "singular": "backup", "kind": "Backup"},
            "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                          "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]
        }
    }))
    .unwrap();
    crd_api
        .patch(
            "backups.ops.example.com",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap();
    let established = eventually("CRD established", || {
        let crd_api = crd_api.clone();
        async move {
            let crd = crd_api.get("backups.ops.example.com").await.ok()?;
            let conditions = crd.data["status"]["conditions"].as_array()?.clone();
            conditions
                .iter()
                .any(|condition| {
                    condition["type"] == "Established" && condition["status"] == "True"
                })
                .then_some(crd)
        }
    })
    .await;
    assert_eq!(
        established.data["status"]["acceptedNames"]["kind"],
        json!("Backup")
    );

    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    let gvk = GroupVersionKind::gvk("ops.example.com", "v1alpha1", "Backup");
    let (_, capabilities) = discovery
        .resolve_gvk(&gvk)
        .expect("the new kind is discoverable");
    assert_eq!(capabilities.scope, Scope::Cluster);
    let backups = dynamic_api(&client, &discovery, &gvk, "").await;
    let backup: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "ops.example.com/v1alpha1", "kind": "Backup",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 3 * * *"}
    }))
    .unwrap();
    let applied = backups
        .patch(
            "nightly",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&backup),
        )
        .await
        .unwrap();
    assert_eq!(applied.data["spec"]["schedule"], json!("0 3 * * *"));
    assert_eq!(applied.metadata.generation, Some(1));

    // Deleting the CRD takes the kind and its objects away.
    crd_api
        .delete("backups.ops.example.com", &DeleteParams::default())
        .await
        .unwrap();
    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    assert!(discovery.resolve_gvk(&gvk).is_none());
    let error = backups.get("nightly").await.unwrap_err();
    assert!(matches!(error, kube::Error::Api(status) if status.code == 404));
}

#[tokio::test]
async fn status_subresource_writes_only_status_and_main_writes_ignore_status() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;
    let crd_api: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &kube::discovery::ApiResource::from_gvk(&GroupVersionKind::gvk(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
        )),
    );
    let crd: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "databases.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "databases", "kind": "Database"},
                 "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}}}]}
    }))
    .unwrap();
    crd_api
        .patch(
            "databases.example.com",
            &PatchParams::apply("test"),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap();
    let databases: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "default",
        &kube::discovery::ApiResource::from_gvk(&GroupVersionKind::gvk(
            "example.com",
            "v1",
            "Database",
        )),
    );
    // A status in the main resource is ignored.
    let database: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Database", "metadata": {"name": "orders"},
        "spec": {"size": "small"}, "status": {"phase": "Forged"}
    }))
    .unwrap();
    let created = databases
        .patch(
            "orders",
            &PatchParams::apply("fleet-agent"),
            &Patch::Apply(&database),
        )
        .await
        .unwrap();
    assert!(created.data.get("status").is_none(), "{:?}", created.data);
    assert_eq!(created.metadata.generation, Some(1));

    // The status subresource changes only status, without a new generation.
    let patched = databases
        .patch_status(
            "orders",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": "huge"}, "status": {"phase": "Ready"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data["status"]["phase"], json!("Ready"));
    assert_eq!(patched.data["spec"]["size"], json!("small"));
    assert_eq!(patched.metadata.generation, Some(1));
    let status_entry = patched
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .find(|entry| entry.subresource.as_deref() == Some("status"))
        .expect("a managed-fields entry for the status subresource");
    assert_eq!(status_entry.operation.as_deref(), Some("Update"));

    // A spec change bumps the generation and keeps the status.
    let changed = databases
        .patch(
            "orders",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": "large"}, "status": {"phase": "Lost"}})),
        )
        .await
        .unwrap();
    assert_eq!(changed.metadata.generation, Some(2));
    assert_eq!(changed.data["status"]["phase"], json!("Ready"));
}

#[tokio::test]
async fn deleting_an_owner_deletes_its_dependents_unless_orphaned() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;
    let config_maps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "default");
    let owner = config_maps
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "owner"}})).unwrap(),
        )
        .await
        .unwrap();
    let uid = owner.metadata.uid.unwrap();
    for name in ["child-1", "child-2"] {
        let child = json!({"metadata": {"name": name, "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}});
        config_maps
            .create(
                &PostParams::default(),
                &serde_json::from_value(child).unwrap(),
            )
            .await
            .unwrap();
    }
    config_maps
        .delete("owner", &DeleteParams::default())
        .await
        .unwrap();
    let names: Vec<String> = config_maps
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|config_map| config_map.metadata.name)
        .collect();
    assert!(names.is_empty(), "{names:?}");

    let owner = config_maps
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "owner"}})).unwrap(),
        )
        .await
        .unwrap();
    let child = json!({"metadata": {"name": "kept", "ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid.unwrap()}]}});
    config_maps
        .create(
            &PostParams::default(),
            &serde_json::from_value(child).unwrap(),
        )
        .await
        .unwrap();
    config_maps
        .delete("owner", &DeleteParams::orphan())
        .await
        .unwrap();
    assert!(config_maps.get("kept").await.is_ok());
}
