//! `fleetctl validate`: render every app for every cluster; report every
//! problem with file and line. Meant for pull-request checks. SOPS files
//! are checked for form (never decrypted) and listed with their recipients.

use fleet_core::Renderer;
use serde::Serialize;

use crate::cli::ValidateArgs;
use crate::error::CliError;
use crate::output::{OutputFormat, print_structured};
use crate::repository;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ValidationReport<'a> {
    valid: bool,
    revision: Option<&'a str>,
    clusters: usize,
    apps: usize,
    app_renders: usize,
    sops_files: Vec<super::sops_files::SopsFileSummary>,
    errors: Vec<fleet_core::diagnostic::GroupedDiagnostic>,
}

pub fn run(args: &ValidateArgs) -> Result<(), CliError> {
    let settings = args.repository.render_settings();
    let loaded = repository::load(&args.repository.repo, args.rev.as_deref(), settings.limits);
    let mut sops_files = Vec::new();
    let (repository, problems) = match loaded {
        Ok(repository) => {
            let renderer = Renderer::with_settings(repository.clone(), settings);
            let mut problems = renderer.validate();
            let (found, sops_problems) = super::sops_files::check_all(&repository);
            sops_files = found;
            problems.0.extend(sops_problems.0);
            (Some((repository, renderer.stats().app_renders)), problems)
        }
        Err(CliError::Invalid(problems)) => (None, problems),
        Err(other) => return Err(other),
    };
    if args.output != OutputFormat::Table {
        let report = ValidationReport {
            valid: problems.is_empty(),
            revision: repository
                .as_ref()
                .and_then(|(repository, _)| repository.snapshot.revision()),
            clusters: repository
                .as_ref()
                .map_or(0, |(repository, _)| repository.clusters.len()),
            apps: repository
                .as_ref()
                .map_or(0, |(repository, _)| repository.apps.len()),
            app_renders: repository.as_ref().map_or(0, |(_, renders)| *renders),
            sops_files,
            errors: problems.grouped(),
        };
        print_structured(&report, args.output)?;
        return if problems.is_empty() {
            Ok(())
        } else {
            Err(CliError::Invalid(problems))
        };
    }
    match repository {
        Some((repository, renders)) if problems.is_empty() => {
            let revision = repository.snapshot.revision().map_or_else(
                || repository.snapshot.description().to_owned(),
                |revision| revision.chars().take(12).collect(),
            );
            println!(
                "valid: {} clusters, {} environments, {} apps, {} waves, {renders} app renders ({revision})",
                repository.clusters.len(),
                repository.environments.len(),
                repository.apps.len(),
                repository.fleet.spec.rollout.waves.len(),
            );
            for file in &sops_files {
                println!(
                    "sops: {} ({} document{}), recipients: {}",
                    file.file,
                    file.documents,
                    if file.documents == 1 { "" } else { "s" },
                    file.recipients.join(", ")
                );
            }
            Ok(())
        }
        _ => Err(CliError::Invalid(problems)),
    }
}
