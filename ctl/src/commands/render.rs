//! `fleetctl render`: one cluster's desired state, exactly as the hub would
//! serve it (SOPS-encrypted objects as ciphertext envelopes), or with them
//! decrypted as the agent would apply them (`--sops-age-key-file`).

use fleet_core::Renderer;
use fleet_core::render::canonical::to_yaml;
use serde_json::json;

use crate::cli::RenderArgs;
use crate::error::CliError;
use crate::output::OutputFormat;
use crate::repository;

use super::sops_files;

pub fn run(args: &RenderArgs) -> Result<(), CliError> {
    let settings = args.repository.render_settings();
    let repository = repository::load(&args.repository.repo, args.rev.as_deref(), settings.limits)?;
    if !repository.clusters.contains_key(&args.cluster) {
        let known: Vec<&str> = repository.clusters.keys().map(String::as_str).collect();
        return Err(CliError::input(
            format!("unknown cluster '{}'", args.cluster),
            Some(format!("clusters in this repository: {}", known.join(", "))),
        ));
    }
    let identities = args
        .sops_age_key_file
        .as_deref()
        .map(sops_files::identities)
        .transpose()?;
    let renderer = Renderer::with_settings(repository.clone(), settings);
    let render = renderer.render_cluster(&args.cluster)?;
    let (objects, digest, scope): (Vec<_>, String, String) = match &args.app {
        None => (
            render.objects().map(|(_, object)| object).collect(),
            render.digest.clone(),
            format!("cluster {}", render.cluster),
        ),
        Some(app_name) => {
            let Some(app) = render.apps.iter().find(|app| &app.app == app_name) else {
                let deployed: Vec<&str> = render.apps.iter().map(|app| app.app.as_str()).collect();
                return Err(CliError::input(
                    format!(
                        "app '{app_name}' is not deployed to cluster '{}'",
                        render.cluster
                    ),
                    Some(format!("apps on this cluster: {}", deployed.join(", "))),
                ));
            };
            (
                app.objects.iter().collect(),
                app.digest.clone(),
                format!("app {app_name} on cluster {}", render.cluster),
            )
        }
    };
    let mut values = Vec::with_capacity(objects.len());
    for object in &objects {
        values.push(match &identities {
            Some(identities) => sops_files::decrypted(object.value(), identities)?,
            None => object.value(),
        });
    }
    match args.output {
        OutputFormat::Json => {
            let items = &values;
            let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
            println!(
                "{}",
                serde_json::to_string_pretty(&list).map_err(anyhow::Error::from)?
            );
        }
        OutputFormat::Yaml | OutputFormat::Table => {
            let mut stream = String::new();
            for value in &values {
                stream.push_str("---\n");
                stream.push_str(&to_yaml(value));
            }
            print!("{stream}");
        }
    }
    let revision = render.revision.as_deref().unwrap_or("working tree");
    eprintln!(
        "digest: {digest} ({scope}, {} objects, revision {revision})",
        objects.len()
    );
    Ok(())
}
