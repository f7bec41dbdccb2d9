//! The cluster page: the cluster's record, its apps (reported health next
//! to the objects the hub renders for them at the target revision) and its
//! recent drift, from the admin RPC `GetCluster`.

use fleet_proto::{ClusterApp, DriftEntry, GetClusterRequest, ObjectRef};
use tonic::{Code, Status};

use super::html::{badge, escape, when};
use super::pages::{Client, health_name, wave_membership};

/// `group/kind namespace/name` as people read it (`Deployment web/web`).
fn object_name(object: Option<&ObjectRef>) -> String {
    let Some(object) = object else {
        return String::new();
    };
    let kind = if object.group.is_empty() {
        object.kind.clone()
    } else {
        format!("{}.{}", object.kind, object.group)
    };
    if object.namespace.is_empty() {
        format!("{kind} {}", object.name)
    } else {
        format!("{kind} {}/{}", object.namespace, object.name)
    }
}

/// One cluster in detail.
pub async fn cluster(client: &mut Client, name: &str) -> Result<String, Status> {
    let answer = match client
        .get_cluster(GetClusterRequest {
            name: name.to_owned(),
        })
        .await
    {
        Ok(answer) => answer.into_inner(),
        Err(status) if status.code() == Code::NotFound => {
            return Ok(format!(
                "<h1>Cluster {}</h1><p>The hub does not know this cluster.</p>",
                escape(name)
            ));
        }
        Err(status) => return Err(status),
    };
    let cluster = answer.cluster.unwrap_or_default();
    let wave = wave_membership(client)
        .await?
        .into_iter()
        .find(|(member, _)| *member == cluster.name)
        .map(|(_, wave)| wave)
        .unwrap_or_default();
    let labels: Vec<String> = cluster
        .labels
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let field = |name: &str, value: String| format!("<dt>{name}</dt><dd>{value}</dd>");
    let yes_no = |value: bool| badge(if value { "yes" } else { "no" });
    let fields = [
        field("Environment", escape(&cluster.environment)),
        field("Wave", escape(&wave)),
        field("Labels", escape(&labels.join(" "))),
        field("Connected", yes_no(cluster.connected)),
        field("Enrolled", yes_no(cluster.enrolled)),
        field(
            "Revoked",
            if cluster.revoked {
                badge("Revoked")
            } else {
                "no".to_owned()
            },
        ),
        field(
            "Target revision",
            format!("<code>{}</code>", escape(&cluster.target_revision)),
        ),
        field(
            "Applied revision",
            format!("<code>{}</code>", escape(&cluster.applied_revision)),
        ),
        field("Health", badge(health_name(cluster.health))),
        field("Drifted objects", cluster.drift_count.to_string()),
        field("Last report", escape(&when(cluster.last_seen_ms))),
        field("Message", escape(&cluster.message)),
    ];
    let objects_error = if answer.objects_error.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"failures\">The desired objects could not be rendered: {}</p>",
            escape(&answer.objects_error)
        )
    };
    Ok(format!(
        "<h1>Cluster {name}</h1><dl>{fields}</dl>\
<h2>Apps</h2>{objects_error}<table id=\"apps\"><thead><tr><th scope=\"col\">App</th><th scope=\"col\">Health</th>\
<th scope=\"col\">Drift</th><th scope=\"col\">Message</th><th scope=\"col\">Objects at the target revision</th></tr></thead>\
<tbody>{apps}</tbody></table>\
<h2>Drift history</h2>{drift}",
        name = escape(&cluster.name),
        fields = fields.concat(),
        apps = answer.apps.iter().map(app_row).collect::<String>(),
        drift = drift_table(&answer.drift_history),
    ))
}

fn app_row(app: &ClusterApp) -> String {
    let objects: String = app
        .objects
        .iter()
        .map(|object| {
            format!(
                "<li><code>{}</code></li>",
                escape(&object_name(Some(object)))
            )
        })
        .collect();
    let health = if app.reported {
        badge(health_name(app.health))
    } else {
        badge("not reported")
    };
    format!(
        "<tr data-app=\"{name}\"><td>{name}</td><td>{health}</td><td>{drift}</td><td>{message}</td><td><ul class=\"objects\">{objects}</ul></td></tr>",
        name = escape(&app.app),
        drift = app.drift_count,
        message = escape(&app.message),
    )
}

fn drift_table(history: &[DriftEntry]) -> String {
    if history.is_empty() {
        return "<p>No drift reported.</p>".to_owned();
    }
    let rows: String = history
        .iter()
        .map(|entry| {
            format!(
                "<tr><td>{when}</td><td>{app}</td><td><code>{object}</code></td><td>{outcome}</td></tr>",
                when = escape(&when(entry.at_ms)),
                app = escape(&entry.app),
                object = escape(&object_name(entry.object.as_ref())),
                outcome = if entry.reverted {
                    badge("reverted")
                } else {
                    badge("left in place")
                },
            )
        })
        .collect();
    format!(
        "<table id=\"drift\"><thead><tr><th scope=\"col\">When</th><th scope=\"col\">App</th>\
<th scope=\"col\">Object</th><th scope=\"col\">Outcome</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}
