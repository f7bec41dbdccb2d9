//! The plan of one revision (`/revisions/REVISION`): per wave, the clusters
//! whose desired state changes with the objects added, changed or removed,
//! and the clusters that stay as they are — from the admin RPC
//! `GetRevisionPlan` (fleet-core's plan, as `fleetctl plan` computes it).

use fleet_proto::{GetRevisionPlanRequest, PlannedClusterChange, PlannedWaveChanges};
use tonic::{Code, Status};

use super::html::{badge, escape};
use super::pages::Client;

/// The plan page of `revision`.
pub async fn revision_plan(client: &mut Client, revision: &str) -> Result<String, Status> {
    let plan = match client
        .get_revision_plan(GetRevisionPlanRequest {
            revision: revision.to_owned(),
        })
        .await
    {
        Ok(plan) => plan.into_inner(),
        Err(status) if matches!(status.code(), Code::NotFound | Code::InvalidArgument) => {
            return Ok(format!(
                "<h1>Revision {}</h1><p>{}</p>",
                escape(revision),
                escape(status.message())
            ));
        }
        Err(status) => return Err(status),
    };
    let title = format!("<h1>Revision <code>{}</code></h1>", escape(&plan.revision));
    if !plan.valid {
        let errors: String = plan
            .errors
            .iter()
            .map(|error| format!("<li><code>{}</code></li>", escape(error)))
            .collect();
        return Ok(format!(
            "{title}<p>{} This revision does not render, so it has no plan and is never rolled out.</p><ul class=\"failures\">{errors}</ul>",
            badge("Invalid")
        ));
    }
    let compared = if plan.compared_with.is_empty() {
        "no earlier valid revision: every object is added".to_owned()
    } else {
        format!(
            "compared with the valid revision before it, <code>{}</code>",
            escape(&plan.compared_with)
        )
    };
    let waves: String = plan.waves.iter().map(wave_section).collect();
    let removed = if plan.removed_clusters.is_empty() {
        String::new()
    } else {
        format!(
            "<p>Clusters this revision no longer declares: {}</p>",
            escape(&plan.removed_clusters.join(", "))
        )
    };
    Ok(format!(
        "{title}<p>The plan per wave, {compared}. Diffs: <code>fleetctl plan</code>.</p>\
<ol class=\"plan\">{waves}</ol>{removed}"
    ))
}

fn wave_section(wave: &PlannedWaveChanges) -> String {
    let clusters: String = wave.changed.iter().map(cluster_item).collect();
    let unchanged = if wave.unchanged.is_empty() {
        String::new()
    } else {
        format!("<p>Unchanged: {}</p>", escape(&wave.unchanged.join(", ")))
    };
    format!(
        "<li class=\"wave\" data-plan-wave=\"{name}\"><h2>Wave {name}</h2><p>{changed} changed, {count} unchanged.</p><ul>{clusters}</ul>{unchanged}</li>",
        name = escape(&wave.name),
        changed = wave.changed.len(),
        count = wave.unchanged.len(),
    )
}

fn cluster_item(cluster: &PlannedClusterChange) -> String {
    let objects: String = cluster
        .objects
        .iter()
        .map(|change| {
            let object = change.object.clone().unwrap_or_default();
            let kind = if object.group.is_empty() {
                object.kind
            } else {
                format!("{}.{}", object.kind, object.group)
            };
            let place = if object.namespace.is_empty() {
                object.name
            } else {
                format!("{}/{}", object.namespace, object.name)
            };
            format!(
                "<li>{change} <code>{kind} {place}</code> (app {app})</li>",
                change = escape(&change.change),
                kind = escape(&kind),
                place = escape(&place),
                app = escape(&change.app),
            )
        })
        .collect();
    let left_out = if cluster.objects_left_out > 0 {
        format!(
            "<li>… and {} more object changes (see <code>fleetctl plan</code>)</li>",
            cluster.objects_left_out
        )
    } else {
        String::new()
    };
    format!(
        "<li data-plan-cluster=\"{name}\"><a href=\"/cluster/{name}\">{name}</a><ul>{objects}{left_out}</ul></li>",
        name = escape(&cluster.cluster),
    )
}
