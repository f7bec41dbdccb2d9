//! The main part of each page, rendered from the hub's answers. Every text
//! from the hub goes through [`escape`].

use fleet_proto::admin_service_client::AdminServiceClient;
use fleet_proto::{
    AuditLogRequest, Health, ListClustersRequest, ListRevisionsRequest, RolloutStatusRequest,
    UserRole, WaveView, WhoAmIRequest,
};
use tonic::Status;
use tonic::transport::Channel;

use super::html::{badge, escape, when};

/// The hub client every page uses.
pub type Client = AdminServiceClient<Channel>;

/// The word for a wire health value.
pub fn health_name(health: i32) -> &'static str {
    match Health::try_from(health).unwrap_or(Health::Unknown) {
        Health::Healthy => "Healthy",
        Health::Progressing => "Progressing",
        Health::Degraded => "Degraded",
        Health::Missing => "Missing",
        Health::Unknown | Health::Unspecified => "Unknown",
    }
}

fn short(revision: &str) -> String {
    escape(revision.get(..10).unwrap_or(revision))
}

/// Every cluster, with a filter box (labels, environment, health …).
pub async fn fleet(client: &mut Client) -> Result<String, Status> {
    let clusters = client
        .list_clusters(ListClustersRequest {})
        .await?
        .into_inner()
        .clusters;
    let wave_of = wave_membership(client).await?;
    let mut rows = String::new();
    for cluster in &clusters {
        let labels: Vec<String> = cluster
            .labels
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        let health = health_name(cluster.health);
        let synced = !cluster.target_revision.is_empty()
            && cluster.applied_revision == cluster.target_revision;
        let wave = wave_of
            .iter()
            .find(|(name, _)| *name == cluster.name)
            .map(|(_, wave)| wave.as_str())
            .unwrap_or("");
        rows.push_str(&format!(
            "<tr data-cluster=\"{name}\"><td><a href=\"/cluster/{name}\">{name}</a></td><td>{wave}</td><td>{environment}</td>\
<td class=\"labels\">{labels}</td><td>{connected}</td><td><code>{target}</code></td><td><code>{applied}</code>{synced}</td>\
<td>{health}</td><td>{drift}</td><td>{seen}</td></tr>",
            name = escape(&cluster.name),
            wave = escape(wave),
            environment = escape(&cluster.environment),
            labels = escape(&labels.join(" ")),
            connected = badge(if cluster.connected { "yes" } else { "no" }),
            target = short(&cluster.target_revision),
            applied = short(&cluster.applied_revision),
            synced = if synced { "" } else { " <span class=\"badge busy\">out of sync</span>" },
            health = badge(health),
            drift = cluster.drift_count,
            seen = escape(&when(cluster.last_seen_ms)),
        ));
    }
    Ok(format!(
        "<h1>Fleet</h1><p>{count} clusters.</p>\
<label for=\"filter\">Filter (name, wave, environment, label, health)</label> \
<input id=\"filter\" type=\"search\" data-filter=\"clusters\" autocomplete=\"off\">\
<table id=\"clusters\"><thead><tr><th scope=\"col\">Cluster</th><th scope=\"col\">Wave</th><th scope=\"col\">Environment</th>\
<th scope=\"col\">Labels</th><th scope=\"col\">Connected</th><th scope=\"col\">Target</th><th scope=\"col\">Applied</th>\
<th scope=\"col\">Health</th><th scope=\"col\">Drift</th><th scope=\"col\">Last report</th></tr></thead><tbody>{rows}</tbody></table>",
        count = clusters.len()
    ))
}

/// (cluster, wave) of the current rollout.
pub async fn wave_membership(client: &mut Client) -> Result<Vec<(String, String)>, Status> {
    let rollout = client
        .rollout_status(RolloutStatusRequest {})
        .await?
        .into_inner()
        .rollout;
    Ok(rollout
        .into_iter()
        .flat_map(|rollout| rollout.waves)
        .flat_map(|wave| {
            let name = wave.name.clone();
            wave.clusters
                .into_iter()
                .map(move |cluster| (cluster.name, name.clone()))
        })
        .collect())
}

/// The current rollout as a pipeline of waves, with the operator's buttons.
///
/// The buttons are there only for a caller the hub lets act (operator and
/// up, per `WhoAmI`); the hub checks every action again regardless.
pub async fn rollout(client: &mut Client, csrf: &str) -> Result<String, Status> {
    let me = client.who_am_i(WhoAmIRequest {}).await?.into_inner();
    let may_act = matches!(
        UserRole::try_from(me.role),
        Ok(UserRole::Operator | UserRole::Admin)
    );
    let Some(rollout) = client
        .rollout_status(RolloutStatusRequest {})
        .await?
        .into_inner()
        .rollout
    else {
        return Ok("<h1>Rollout</h1><p>No rollout yet.</p>".to_owned());
    };
    let active = may_act && matches!(rollout.state.as_str(), "Progressing" | "Paused");
    let mut waves = String::new();
    for wave in &rollout.waves {
        waves.push_str(&wave_card(wave, active, csrf));
    }
    let mut actions = String::new();
    if active {
        let toggle = if rollout.state == "Paused" {
            "resume"
        } else {
            "pause"
        };
        actions.push_str(&action_form(
            toggle,
            "",
            &format!("{toggle} the rollout"),
            csrf,
        ));
    }
    if active || (may_act && rollout.state == "Succeeded") {
        actions.push_str(&action_form(
            "rollback",
            "",
            "roll every released cluster back",
            csrf,
        ));
    }
    Ok(format!(
        "<h1>Rollout {id}</h1><p id=\"rollout-state\">{state} · revision <code>{revision}</code> {summary}{reason}</p>\
<div class=\"actions\">{actions}{read_only}</div><ol class=\"pipeline\" aria-label=\"Waves\">{waves}</ol>",
        id = rollout.id,
        read_only = if may_act {
            String::new()
        } else {
            format!(
                "<p class=\"read-only\">Read only: {} may not act on rollouts.</p>",
                escape(&me.identity)
            )
        },
        state = badge(&rollout.state),
        revision = short(&rollout.revision),
        summary = escape(&rollout.summary),
        reason = if rollout.reason.is_empty() {
            String::new()
        } else {
            format!(" — {}", escape(&rollout.reason))
        },
    ))
}

fn wave_card(wave: &WaveView, active: bool, csrf: &str) -> String {
    let bake = wave
        .bake_left_ms
        .map(|left| {
            format!(
                "<p class=\"bake\" data-bake-left-ms=\"{left}\">bake: {}s left</p>",
                left.div_ceil(1000)
            )
        })
        .unwrap_or_default();
    let failures: String = wave
        .failures
        .iter()
        .map(|failure| format!("<li>{}</li>", escape(failure)))
        .collect();
    let failures = if failures.is_empty() {
        String::new()
    } else {
        format!("<ul class=\"failures\">{failures}</ul>")
    };
    let promote = if active && wave.state == "WaitingApproval" {
        action_form(
            "promote",
            &wave.name,
            &format!("promote wave {}", wave.name),
            csrf,
        )
    } else {
        String::new()
    };
    let note = wave
        .note
        .as_ref()
        .map(|note| format!(" ({})", escape(note)))
        .unwrap_or_default();
    let clusters: Vec<String> = wave
        .clusters
        .iter()
        .map(|cluster| escape(&cluster.name))
        .collect();
    format!(
        "<li class=\"wave\" data-wave=\"{name}\" data-state=\"{raw_state}\"><h2>{name}{manual}</h2><p>{state}{note}</p>\
<p><meter min=\"0\" max=\"{total}\" value=\"{converged}\"></meter> {converged}/{total} converged</p>{bake}{failures}{promote}\
<p class=\"members\">{clusters}</p></li>",
        name = escape(&wave.name),
        raw_state = escape(&wave.state),
        manual = if wave.manual { " · manual" } else { "" },
        state = badge(&wave.state),
        total = wave.total,
        converged = wave.converged,
        clusters = clusters.join(", "),
    )
}

/// A button that POSTs `action` (with the CSRF token) after a confirm.
fn action_form(action: &str, wave: &str, confirm: &str, csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/actions/rollout\" data-confirm=\"Really {confirm}?\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"action\" value=\"{action}\">\
<input type=\"hidden\" name=\"wave\" value=\"{wave}\">\
<button type=\"submit\" class=\"{action}\" data-action=\"{action}\">{label}</button></form>",
        confirm = escape(confirm),
        csrf = escape(csrf),
        action = escape(action),
        wave = escape(wave),
        label = escape(&if wave.is_empty() {
            capitalized(action)
        } else {
            format!("{} {wave}", capitalized(action))
        }),
    )
}

fn capitalized(word: &str) -> String {
    let mut characters = word.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}

/// Observed revisions with their verdicts (errors carry file:line).
pub async fn revisions(client: &mut Client) -> Result<String, Status> {
    let answer = client
        .list_revisions(ListRevisionsRequest {})
        .await?
        .into_inner();
    let mut rows = String::new();
    for revision in answer.revisions.iter().rev() {
        let errors: String = revision
            .errors
            .iter()
            .map(|error| format!("<li><code>{}</code></li>", escape(error)))
            .collect();
        rows.push_str(&format!(
            "<tr><td><a href=\"/revisions/{full}\"><code>{revision}</code></a></td><td>{summary}</td><td>{when}</td><td>{verdict}</td><td>{clusters}</td><td><ul class=\"failures\">{errors}</ul></td></tr>",
            revision = short(&revision.revision),
            full = escape(&revision.revision),
            summary = escape(&revision.summary),
            when = escape(&when(revision.observed_at_ms)),
            verdict = badge(if revision.valid { "Valid" } else { "Invalid" }),
            clusters = revision.clusters,
        ));
    }
    Ok(format!(
        "<h1>Revisions</h1><p>Tracked branch: <code>{branch}</code>. Open a revision for its plan per wave.</p>\
<table><thead><tr><th scope=\"col\">Revision</th><th scope=\"col\">Summary</th><th scope=\"col\">Observed</th>\
<th scope=\"col\">Verdict</th><th scope=\"col\">Clusters</th><th scope=\"col\">Errors</th></tr></thead><tbody>{rows}</tbody></table>",
        branch = escape(&answer.tracked_branch),
    ))
}

/// The audit log, newest first.
pub async fn audit(client: &mut Client) -> Result<String, Status> {
    let entries = client
        .audit_log(AuditLogRequest { since_ms: 0 })
        .await?
        .into_inner()
        .entries;
    let rows: String = entries
        .iter()
        .rev()
        .map(|entry| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                entry.sequence,
                escape(&when(entry.at_ms)),
                escape(&entry.actor),
                escape(&entry.action)
            )
        })
        .collect();
    Ok(format!(
        "<h1>Audit</h1><table><thead><tr><th scope=\"col\">#</th><th scope=\"col\">When</th><th scope=\"col\">Who</th>\
<th scope=\"col\">What</th></tr></thead><tbody>{rows}</tbody></table>"
    ))
}
