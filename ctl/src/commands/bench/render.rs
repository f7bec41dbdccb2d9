//! `fleetctl bench render`: how long rendering a whole generated fleet from
//! Git takes, and how much work the renderer shares across clusters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use fleet_core::render::RenderStats;
use fleet_core::{FleetRepository, Renderer, Snapshot};
use serde::Serialize;

use super::gen_fleet::generate;
use crate::cli::BenchRenderArgs;
use crate::error::CliError;
use crate::git_cli::git;
use crate::output::{OutputFormat, print_structured};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RenderBenchmark {
    clusters: usize,
    apps: usize,
    helm_apps: usize,
    app_renders: usize,
    objects: usize,
    runs: usize,
    load_ms: Vec<f64>,
    render_ms: Vec<f64>,
    /// Loading the next commit, which changes one cluster file, after the
    /// last run's revision (what the hub does on a new commit).
    reload_ms: Vec<f64>,
    stats: RenderStats,
}

pub fn run(args: &BenchRenderArgs) -> Result<(), CliError> {
    let directory = tempfile::tempdir().context("creating a temporary directory")?;
    let repository_path = directory.path().join("fleet");
    eprintln!(
        "generating a fleet of {} clusters x {} apps (+ {} Helm apps) ...",
        args.size.clusters, args.size.apps, args.size.helm_apps
    );
    generate(&repository_path, &args.size)?;
    let mut load_ms = Vec::new();
    let mut render_ms = Vec::new();
    let mut last = None;
    for run in 0..args.runs.max(1) {
        let started = Instant::now();
        let snapshot =
            Snapshot::from_git(&repository_path, "main").context("reading the generated fleet")?;
        let repository = Arc::new(FleetRepository::load(Arc::new(snapshot))?);
        let loaded = started.elapsed();
        let loaded_repository = repository.clone();
        let renderer = Renderer::with_settings(
            repository,
            fleet_core::render::RenderSettings {
                helm: args.helm.clone(),
                ..fleet_core::render::RenderSettings::default()
            },
        );
        let started = Instant::now();
        let renders = renderer.render_all();
        let rendered = started.elapsed();
        let mut objects = 0;
        for render in renders.values() {
            let render = render
                .as_ref()
                .map_err(|problems| CliError::Invalid(problems.clone()))?;
            objects += render.objects().count();
        }
        eprintln!(
            "run {}: load {:.1} ms, render {:.1} ms",
            run + 1,
            millis(loaded),
            millis(rendered)
        );
        load_ms.push(millis(loaded));
        render_ms.push(millis(rendered));
        last = Some((renderer.stats(), objects, loaded_repository));
    }
    let Some((stats, objects, previous)) = last else {
        return Ok(());
    };
    let reload_ms = reload_after_one_change(&repository_path, &previous, args.runs.max(1))?;
    let report = RenderBenchmark {
        clusters: args.size.clusters,
        apps: args.size.apps,
        helm_apps: args.size.helm_apps,
        app_renders: stats.app_renders,
        objects,
        runs: load_ms.len(),
        load_ms,
        render_ms,
        reload_ms,
        stats,
    };
    if args.output != OutputFormat::Table {
        print_structured(&report, args.output)?;
        return Ok(());
    }
    let median = |values: &[f64]| {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    };
    let render = median(&report.render_ms);
    println!("clusters            {}", report.clusters);
    println!("apps                {}", report.apps);
    if report.helm_apps > 0 {
        println!("helm apps           {}", report.helm_apps);
    }
    println!("app renders         {}", report.app_renders);
    println!("objects rendered    {}", report.objects);
    println!(
        "load from Git       {:.1} ms (median of {})",
        median(&report.load_ms),
        report.runs
    );
    println!(
        "reload, 1 file new  {:.1} ms (median of {}; unchanged files taken from the last load)",
        median(&report.reload_ms),
        report.reload_ms.len()
    );
    println!(
        "render all          {render:.1} ms (median of {})",
        report.runs
    );
    println!(
        "per app render      {:.1} us",
        render * 1000.0 / report.app_renders.max(1) as f64
    );
    println!(
        "shared work         {} manifest builds and {} substitutions for {} app renders ({} substitutions reused)",
        report.stats.sources_built,
        report.stats.substitutions_built,
        report.app_renders,
        report.stats.substitutions_reused
    );
    if report.helm_apps > 0 {
        println!(
            "helm template runs  {} in the last run ({} outputs reused by other environments or apps)",
            report.stats.helm_runs, report.stats.helm_runs_reused
        );
    }
    Ok(())
}

/// Commits a change to one cluster file, then times loading that commit
/// after `previous` (`FleetRepository::load_after`), `runs` times.
fn reload_after_one_change(
    repository_path: &std::path::Path,
    previous: &FleetRepository,
    runs: usize,
) -> anyhow::Result<Vec<f64>> {
    let Some(cluster) = previous.clusters.values().next() else {
        return Ok(Vec::new());
    };
    let file = repository_path.join(&cluster.document.file);
    let mut text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    text.push_str("# touched by fleetctl bench render\n");
    std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
    git(
        repository_path,
        &[
            "commit",
            "--quiet",
            "--all",
            "--message",
            "Touch one cluster",
        ],
    )?;
    let mut reload_ms = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let snapshot =
            Snapshot::from_git(repository_path, "main").context("reading the changed fleet")?;
        let reloaded = FleetRepository::load_after(Arc::new(snapshot), Some(previous))
            .map_err(|problems| anyhow::anyhow!("the changed fleet does not load: {problems}"))?;
        reload_ms.push(millis(started.elapsed()));
        anyhow::ensure!(
            reloaded.clusters.len() == previous.clusters.len(),
            "the changed fleet lost clusters"
        );
    }
    Ok(reload_ms)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
