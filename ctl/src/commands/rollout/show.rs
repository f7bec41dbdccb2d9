//! How a rollout looks on a terminal.

use std::fmt::Write as _;

use fleet_proto::RolloutView;

const BAR_WIDTH: usize = 20;

fn bar(done: u32, total: u32) -> String {
    let (done, total) = (done as usize, total as usize);
    let filled = (done * BAR_WIDTH)
        .checked_div(total)
        .unwrap_or(BAR_WIDTH)
        .min(BAR_WIDTH);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(BAR_WIDTH - filled))
}

fn short(revision: &str) -> &str {
    revision.get(..12).unwrap_or(revision)
}

fn seconds(milliseconds: u64) -> String {
    let total = milliseconds.div_ceil(1000);
    if total >= 60 {
        format!("{}m{:02}s", total / 60, total % 60)
    } else {
        format!("{total}s")
    }
}

/// The human view of a rollout.
pub fn human(view: &RolloutView, now_ms: u64) -> String {
    let mut text = String::new();
    let age = match view.finished_at_ms {
        Some(finished) => format!(
            "took {}",
            seconds(finished.saturating_sub(view.started_at_ms))
        ),
        None => format!(
            "started {} ago",
            seconds(now_ms.saturating_sub(view.started_at_ms))
        ),
    };
    let _ = writeln!(
        text,
        "rollout {} of {} \"{}\": {} ({age})",
        view.id,
        short(&view.revision),
        view.summary,
        view.state
    );
    if !view.reason.is_empty() {
        let _ = writeln!(text, "  {}", view.reason);
    }
    let width = view
        .waves
        .iter()
        .map(|wave| wave.name.len())
        .max()
        .unwrap_or(4);
    for wave in &view.waves {
        let mut state = wave.state.clone();
        if let Some(left) = wave.bake_left_ms {
            state = format!("Baking, {} left", seconds(left));
        }
        if let Some(note) = &wave.note {
            state = format!("{state} ({note})");
        }
        if wave.state == "WaitingApproval" {
            state = format!(
                "WaitingApproval (fleetctl rollout promote --wave {})",
                wave.name
            );
        }
        let _ = writeln!(
            text,
            "  {:width$}  {} {:>3}/{:<3} {state}",
            wave.name,
            bar(wave.converged, wave.total),
            wave.converged,
            wave.total,
        );
        for failure in &wave.failures {
            let _ = writeln!(text, "  {:width$}    failed: {failure}", "");
        }
    }
    text
}
