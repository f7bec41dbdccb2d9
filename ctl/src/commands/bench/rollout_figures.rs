//! The figures `fleetctl bench rollout` reports, and how they are printed.

use serde::Serialize;

/// p50 / p99 / max of a set of durations (milliseconds; nearest rank).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    /// How many samples.
    pub count: usize,
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

impl Percentiles {
    /// Of `samples` (any order).
    pub fn of(mut samples: Vec<u64>) -> Self {
        samples.sort_unstable();
        let rank = |quantile: f64| -> u64 {
            if samples.is_empty() {
                return 0;
            }
            let index = ((quantile * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[index - 1]
        };
        Self {
            count: samples.len(),
            p50: rank(0.50),
            p99: rank(0.99),
            max: samples.last().copied().unwrap_or(0),
        }
    }
}

/// One wave's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveFigure {
    /// Wave name.
    pub name: String,
    /// Its clusters.
    pub clusters: usize,
    /// From its start to its end (milliseconds; absent if it never ran).
    pub duration_ms: Option<u64>,
    /// Its state at the end.
    pub state: String,
}

/// Everything one run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutFigures {
    /// The machine (CPU model and cores).
    pub machine: String,
    /// Clusters (= simulated agents).
    pub clusters: usize,
    /// Apps in the generated fleet.
    pub apps: usize,
    /// Hub process start → ready (the first revision rendered and recorded).
    pub hub_ready_ms: u64,
    /// All agents enrolled (token + Enroll), milliseconds.
    pub enroll_ms: u64,
    /// Sessions started → every agent holds the first revision, milliseconds.
    pub connect_ms: u64,
    /// Hub resident memory with every session open, idle (MiB).
    pub idle_rss_mib: f64,
    /// Webhook → the first agent holds the new revision.
    pub first_held_ms: u64,
    /// Webhook → the last agent holds the new revision (absent if some never did).
    pub last_held_ms: Option<u64>,
    /// Agents that held the new revision.
    pub held: usize,
    /// Webhook → hold, for the first wave's clusters (released by the commit itself).
    pub first_wave_held: Percentiles,
    /// Release (target moved) → hold, over every released cluster whose
    /// agent was not killed.
    pub release_to_held: Percentiles,
    /// Each wave.
    pub waves: Vec<WaveFigure>,
    /// Webhook → the rollout finished.
    pub rollout_ms: u64,
    /// How the rollout ended.
    pub outcome: String,
    /// Why (when it did not succeed).
    pub reason: String,
    /// Clusters marked failed.
    pub failed_clusters: usize,
    /// Raft entries committed during the rollout.
    pub raft_entries: u64,
    /// … per second.
    pub raft_writes_per_second: f64,
    /// Hub peak resident memory over the whole run (MiB, VmHWM).
    pub peak_rss_mib: f64,
    /// Hub CPU seconds during the rollout.
    pub rollout_cpu_seconds: f64,
    /// Agents killed mid-rollout.
    pub killed: usize,
    /// Killed agents restarted → every cluster converged on its target again.
    pub recovered_ms: Option<u64>,
}

impl RolloutFigures {
    /// The figures as a table, with the goals of issue #8 beside them.
    pub fn table(&self) -> String {
        let mut rows: Vec<(String, String, &str)> = vec![
            ("machine".into(), self.machine.clone(), ""),
            (
                "clusters × apps".into(),
                format!("{} × {}", self.clusters, self.apps),
                "",
            ),
            ("hub start → ready".into(), ms(self.hub_ready_ms), ""),
            (
                "enroll all agents".into(),
                format!(
                    "{} ({:.0}/s)",
                    ms(self.enroll_ms),
                    per_second(self.clusters as u64, self.enroll_ms)
                ),
                "",
            ),
            (
                "sessions → all hold revision 1".into(),
                ms(self.connect_ms),
                "",
            ),
            (
                "hub RSS, all sessions idle".into(),
                format!("{:.0} MiB", self.idle_rss_mib),
                "≤ 1 GiB at 10,000",
            ),
            (
                "webhook → first agent holds".into(),
                ms(self.first_held_ms),
                "",
            ),
            (
                "webhook → first wave holds (p50/p99/max)".into(),
                triple(self.first_wave_held),
                "p99 ≤ 1 s",
            ),
            (
                "release → agent holds (p50/p99/max)".into(),
                triple(self.release_to_held),
                "p99 ≤ 1 s",
            ),
            (
                "webhook → last agent holds".into(),
                self.last_held_ms
                    .map_or_else(|| format!("{} of {} held", self.held, self.clusters), ms),
                "",
            ),
        ];
        for wave in &self.waves {
            rows.push((
                format!("wave {} ({} clusters)", wave.name, wave.clusters),
                wave.duration_ms.map_or_else(
                    || wave.state.clone(),
                    |duration| format!("{} {}", ms(duration), wave.state),
                ),
                "",
            ));
        }
        rows.push((
            "webhook → rollout finished".into(),
            format!("{} {}", ms(self.rollout_ms), self.outcome),
            "≤ 30 s at 10,000 (4 waves, bake 0)",
        ));
        if !self.reason.is_empty() {
            rows.push(("reason".into(), shorten(&self.reason, 60), ""));
        }
        rows.push((
            "failed clusters".into(),
            self.failed_clusters.to_string(),
            "",
        ));
        rows.push((
            "raft writes during the rollout".into(),
            format!(
                "{} ({:.0}/s)",
                self.raft_entries, self.raft_writes_per_second
            ),
            "",
        ));
        rows.push((
            "hub CPU during the rollout".into(),
            format!("{:.1} s", self.rollout_cpu_seconds),
            "",
        ));
        rows.push((
            "hub peak RSS".into(),
            format!("{:.0} MiB", self.peak_rss_mib),
            "≤ 1 GiB at 10,000",
        ));
        if self.killed > 0 {
            rows.push((
                "agents killed mid-rollout".into(),
                self.killed.to_string(),
                "",
            ));
            rows.push((
                "restarted → all converged".into(),
                self.recovered_ms.map_or_else(|| "no".to_owned(), ms),
                "",
            ));
        }
        let width = rows
            .iter()
            .map(|row| row.0.chars().count())
            .max()
            .unwrap_or(0);
        let value_width = rows
            .iter()
            .map(|row| row.1.chars().count())
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for (figure, value, goal) in rows {
            let line = format!("{figure:<width$}  {value:<value_width$}  {goal}");
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }
}

fn shorten(text: &str, at: usize) -> String {
    match text.char_indices().nth(at) {
        Some((index, _)) => format!("{}…", &text[..index]),
        None => text.to_owned(),
    }
}

fn ms(value: u64) -> String {
    if value >= 10_000 {
        format!("{:.1} s", value as f64 / 1000.0)
    } else {
        format!("{value} ms")
    }
}

fn triple(figures: Percentiles) -> String {
    format!("{} / {} / {} ms", figures.p50, figures.p99, figures.max)
}

fn per_second(count: u64, elapsed_ms: u64) -> f64 {
    count as f64 * 1000.0 / elapsed_ms.max(1) as f64
}

/// The CPU model and core count, from `/proc/cpuinfo`.
pub fn machine() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("unknown CPU", |(_, model)| model.trim())
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!("{cores} cores, {model}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let figures = Percentiles::of((1..=200).rev().collect());
        assert_eq!(figures.count, 200);
        assert_eq!(figures.p50, 100);
        assert_eq!(figures.p99, 198);
        assert_eq!(figures.max, 200);
        assert_eq!(Percentiles::of(Vec::new()), Percentiles::default());
        assert_eq!(Percentiles::of(vec![7]).p99, 7);
    }
}
