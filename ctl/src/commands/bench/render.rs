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
use crate::output::{OutputFormat, print_structured};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RenderBenchmark {
    clusters: usize,
    apps: usize,
    app_renders: usize,
    objects: usize,
    runs: usize,
    load_ms: Vec<f64>,
    render_ms: Vec<f64>,
    stats: RenderStats,
}

pub fn run(args: &BenchRenderArgs) -> Result<(), CliError> {
    let directory = tempfile::tempdir().context("creating a temporary directory")?;
    let repository_path = directory.path().join("fleet");
    eprintln!(
        "generating a fleet of {} clusters x {} apps ...",
        args.size.clusters, args.size.apps
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
        let renderer = Renderer::new(repository);
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
        last = Some((renderer.stats(), objects));
    }
    let Some((stats, objects)) = last else {
        return Ok(());
    };
    let report = RenderBenchmark {
        clusters: args.size.clusters,
        apps: args.size.apps,
        app_renders: stats.app_renders,
        objects,
        runs: load_ms.len(),
        load_ms,
        render_ms,
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
    println!("app renders         {}", report.app_renders);
    println!("objects rendered    {}", report.objects);
    println!(
        "load from Git       {:.1} ms (median of {})",
        median(&report.load_ms),
        report.runs
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
    Ok(())
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
