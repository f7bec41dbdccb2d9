//! `ClusterRender` (core) → `DesiredState` (wire). It lives in the hub, the
//! only crate that knows both the core model and the wire types, so that
//! `fleet-proto` (and with it the agent) does not depend on `fleet-core`.

use fleet_core::ClusterRender;
use fleet_core::render::AppRender;
use fleet_proto::{AppDesiredState, DesiredState, IgnoreDifference, Manifest, SyncPolicy};

/// The wire form with every app's `objects` left empty — for callers that
/// keep manifests apart (shared between clusters by app digest).
pub(crate) fn desired_state_without_objects(render: &ClusterRender) -> DesiredState {
    DesiredState {
        cluster: render.cluster.clone(),
        revision: render.revision.clone().unwrap_or_default(),
        digest: render.digest.clone(),
        apps: render
            .apps
            .iter()
            .map(|app| AppDesiredState {
                app: app.app.clone(),
                namespace: app.namespace.clone(),
                digest: app.digest.clone(),
                sync: Some(SyncPolicy {
                    prune: app.sync.prune,
                    self_heal: app.sync.self_heal,
                }),
                depends_on: app.depends_on.clone(),
                ignore_differences: app
                    .ignore_differences
                    .iter()
                    .map(|ignored| IgnoreDifference {
                        group: ignored.group.clone(),
                        kind: ignored.kind.clone(),
                        name: ignored.name.clone().unwrap_or_default(),
                        namespace: ignored.namespace.clone().unwrap_or_default(),
                        json_pointers: ignored.json_pointers.clone(),
                    })
                    .collect(),
                // Whole seconds on the wire, rounded up (1500ms → 2s): never
                // truncated to 0, which means "no timeout".
                health_timeout_seconds: app.health_timeout.map_or(0, |timeout| {
                    u64::try_from(timeout.0.as_millis().div_ceil(1000)).unwrap_or(u64::MAX)
                }),
                objects: Vec::new(),
            })
            .collect(),
    }
}

/// An app's objects as wire manifests (canonical JSON), in apply order.
pub(crate) fn manifests(app: &AppRender) -> Vec<Manifest> {
    app.objects
        .iter()
        .map(|object| Manifest {
            digest: object.digest.clone(),
            json: object.canonical_json.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use fleet_core::ClusterRender;
    use fleet_core::model::{FleetDuration, SyncPolicy};
    use fleet_core::render::AppRender;

    use super::desired_state_without_objects;

    fn with_timeout(timeout: Option<Duration>) -> ClusterRender {
        ClusterRender {
            cluster: "edge-1".into(),
            environment: "dev".into(),
            revision: None,
            apps: vec![AppRender {
                app: "web".into(),
                namespace: "web".into(),
                sync: SyncPolicy {
                    prune: true,
                    self_heal: true,
                },
                depends_on: Vec::new(),
                ignore_differences: Vec::new(),
                health_timeout: timeout.map(FleetDuration),
                objects: Vec::new(),
                digest: "sha256:app".into(),
            }],
            digest: "sha256:cluster".into(),
        }
    }

    #[test]
    fn health_timeouts_round_up_to_whole_seconds_and_the_namespace_travels() {
        let seconds = |timeout| {
            desired_state_without_objects(&with_timeout(timeout)).apps[0].health_timeout_seconds
        };
        assert_eq!(seconds(None), 0, "no timeout");
        assert_eq!(seconds(Some(Duration::from_millis(1500))), 2);
        assert_eq!(seconds(Some(Duration::from_millis(200))), 1, "never 0");
        assert_eq!(seconds(Some(Duration::from_secs(300))), 300);
        assert_eq!(
            desired_state_without_objects(&with_timeout(None)).apps[0].namespace,
            "web"
        );
    }
}
