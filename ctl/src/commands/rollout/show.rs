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

/// A wait as hours and minutes ("3h12m"), minutes under an hour ("12m"),
/// rounded up to the minute.
fn hours_minutes(milliseconds: u64) -> String {
    let minutes = milliseconds.div_ceil(60_000);
    if minutes >= 60 {
        format!("{}h{:02}m", minutes / 60, minutes % 60)
    } else {
        format!("{minutes}m")
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
        if wave.waiting_for_window {
            state = match wave.window_opens_at_ms {
                Some(opens) => format!(
                    "{state}, waiting for window (opens in {})",
                    hours_minutes(opens.saturating_sub(now_ms))
                ),
                None => format!("{state}, waiting for window"),
            };
        }
        if wave.state == "WaitingApproval" && !wave.approved {
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
        for gate in &wave.gates {
            let _ = writeln!(text, "  {:width$}    gate {gate}", "");
        }
        for held in &wave.held {
            let _ = writeln!(text, "  {:width$}    held: {held}", "");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use fleet_proto::WaveView;

    use super::*;

    #[test]
    fn a_wave_waiting_for_its_window_says_when_it_opens_and_held_clusters_are_listed() {
        let now = 1_000_000;
        let view = RolloutView {
            id: 3,
            revision: "0123456789abcdef".into(),
            summary: "bump".into(),
            state: "Progressing".into(),
            started_at_ms: now,
            waves: vec![WaveView {
                name: "production".into(),
                state: "Pending".into(),
                total: 2,
                waiting_for_window: true,
                window_opens_at_ms: Some(now + (3 * 60 + 12) * 60_000),
                held: vec!["p2: migration (held by spiffe://fleet/admin/ops)".into()],
                ..WaveView::default()
            }],
            ..RolloutView::default()
        };
        let text = human(&view, now);
        assert!(
            text.contains("Pending, waiting for window (opens in 3h12m)"),
            "{text}"
        );
        assert!(
            text.contains("held: p2: migration (held by spiffe://fleet/admin/ops)"),
            "{text}"
        );
    }
}
