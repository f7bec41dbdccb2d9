//! Sync windows evaluated at a given time (issue #19). Pure: the caller
//! passes "now", so the hub's rollout controller stays a pure function and
//! tests script time, daylight saving changes included.
//!
//! A window opens at every time its cron schedule matches (read in its IANA
//! time zone) and stays open for its duration (absolute time, so a window
//! across a daylight saving change lasts exactly as long). A wave may be
//! released when no deny window naming it is open and, if any allow window
//! names it, one of those is open.

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::model::{WindowKind, WindowSpec};

/// Why a window cannot be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    /// The schedule is not a 5-field cron expression.
    #[error(
        "invalid cron schedule '{schedule}' (expected 5 fields: minute hour day month weekday): {reason}"
    )]
    Schedule {
        /// The schedule as written.
        schedule: String,
        /// What the cron parser said.
        reason: String,
    },
    /// The time zone is not in the IANA time zone database.
    #[error("unknown time zone '{timezone}' (expected an IANA name such as Europe/Berlin or UTC)")]
    TimeZone {
        /// The name as written.
        timezone: String,
    },
    /// A time could not be represented.
    #[error("time {at_ms} ms is out of range for window '{schedule}'")]
    OutOfRange {
        /// The time (Unix milliseconds).
        at_ms: u64,
        /// The window's schedule.
        schedule: String,
    },
}

/// `Result` of this module.
pub type Result<T, E = WindowError> = std::result::Result<T, E>;

/// A window as the hub's state records it (copied from `fleet.yaml` at the
/// revision being rolled out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncWindow {
    /// deny or allow.
    pub kind: WindowKind,
    /// 5-field cron schedule.
    pub schedule: String,
    /// How long it stays open (milliseconds).
    pub duration_ms: u64,
    /// IANA time zone name.
    pub timezone: String,
    /// The waves it applies to (empty: every wave).
    pub waves: Vec<String>,
}

/// Whether a wave may be released now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    /// Releases may happen.
    Open,
    /// Releases wait; `opens_at_ms` is when they may happen next, if a time
    /// was found within a year.
    Closed {
        /// When the wave's windows next allow releases (Unix milliseconds).
        opens_at_ms: Option<u64>,
    },
}

/// Parses a 5-field cron schedule.
pub fn parse_schedule(schedule: &str) -> Result<Cron> {
    let fields = schedule.split_whitespace().count();
    let invalid = |reason: String| WindowError::Schedule {
        schedule: schedule.to_owned(),
        reason,
    };
    if fields != 5 {
        return Err(invalid(format!("it has {fields} fields")));
    }
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(schedule)
        .map_err(|error| invalid(error.to_string()))
}

/// Looks up an IANA time zone in the database built into fleet (the same
/// on every hub node, whatever the host has installed).
pub fn parse_timezone(timezone: &str) -> Result<TimeZone> {
    TimeZone::get(timezone).map_err(|_| WindowError::TimeZone {
        timezone: timezone.to_owned(),
    })
}

impl SyncWindow {
    /// The window of `spec`, checked.
    pub fn from_spec(spec: &WindowSpec) -> Result<Self> {
        parse_schedule(&spec.schedule)?;
        parse_timezone(&spec.timezone)?;
        Ok(Self {
            kind: spec.kind,
            schedule: spec.schedule.clone(),
            duration_ms: u64::try_from(spec.duration.0.as_millis()).unwrap_or(u64::MAX),
            timezone: spec.timezone.clone(),
            waves: spec.waves.clone(),
        })
    }

    /// Whether it applies to `wave`.
    pub fn applies_to(&self, wave: &str) -> bool {
        self.waves.is_empty() || self.waves.iter().any(|name| name == wave)
    }

    /// When the window open at `at_ms` closes, or `None` when it is closed.
    pub fn open_until(&self, at_ms: u64) -> Result<Option<u64>> {
        let cron = parse_schedule(&self.schedule)?;
        let now = self.zoned(at_ms)?;
        let Ok(start) = cron.find_previous_occurrence(&now, true) else {
            return Ok(None);
        };
        let start_ms = u64::try_from(start.timestamp().as_millisecond()).unwrap_or(0);
        let end_ms = start_ms.saturating_add(self.duration_ms);
        Ok((at_ms < end_ms).then_some(end_ms))
    }

    /// The next time after `at_ms` the window opens.
    pub fn next_start(&self, at_ms: u64) -> Result<Option<u64>> {
        let cron = parse_schedule(&self.schedule)?;
        let now = self.zoned(at_ms)?;
        Ok(cron
            .find_next_occurrence(&now, false)
            .ok()
            .and_then(|next| u64::try_from(next.timestamp().as_millisecond()).ok()))
    }

    fn zoned(&self, at_ms: u64) -> Result<jiff::Zoned> {
        let out_of_range = || WindowError::OutOfRange {
            at_ms,
            schedule: self.schedule.clone(),
        };
        let milliseconds = i64::try_from(at_ms).map_err(|_| out_of_range())?;
        let timestamp = Timestamp::from_millisecond(milliseconds).map_err(|_| out_of_range())?;
        Ok(timestamp.to_zoned(parse_timezone(&self.timezone)?))
    }
}

/// How far ahead [`wave_window_state`] looks for an opening.
const LOOKAHEAD_MS: u64 = 366 * 24 * 3600 * 1000;
/// Steps [`wave_window_state`] takes looking for an opening.
const MAX_STEPS: usize = 1000;

/// Whether `wave` may be released at `at_ms` under `windows`, and if not,
/// when it may next. A window that cannot be evaluated (it was checked
/// when the repository was read, so only a corrupted state gets here)
/// keeps the wave closed: releases wait rather than ignore a freeze.
pub fn wave_window_state(windows: &[SyncWindow], wave: &str, at_ms: u64) -> WindowState {
    let applying: Vec<&SyncWindow> = windows
        .iter()
        .filter(|window| window.applies_to(wave))
        .collect();
    if applying.is_empty() {
        return WindowState::Open;
    }
    match open_at(&applying, at_ms) {
        Ok(None) => WindowState::Open,
        Ok(Some(_)) => WindowState::Closed {
            opens_at_ms: next_opening(&applying, at_ms).ok().flatten(),
        },
        Err(_) => WindowState::Closed { opens_at_ms: None },
    }
}

/// `None` when releases may happen at `at_ms`; otherwise the earliest time
/// after `at_ms` when something changes (a deny window closes or an allow
/// window opens), if any.
fn open_at(windows: &[&SyncWindow], at_ms: u64) -> Result<Option<Option<u64>>> {
    let mut deny_ends = Vec::new();
    for window in windows
        .iter()
        .filter(|window| window.kind == WindowKind::Deny)
    {
        if let Some(end) = window.open_until(at_ms)? {
            deny_ends.push(end);
        }
    }
    let allows: Vec<&&SyncWindow> = windows
        .iter()
        .filter(|window| window.kind == WindowKind::Allow)
        .collect();
    let mut allow_open = allows.is_empty();
    let mut allow_starts = Vec::new();
    for window in &allows {
        if window.open_until(at_ms)?.is_some() {
            allow_open = true;
        } else if let Some(start) = window.next_start(at_ms)? {
            allow_starts.push(start);
        }
    }
    if deny_ends.is_empty() && allow_open {
        return Ok(None);
    }
    // The wave opens no earlier than every open deny window's end, and (when
    // no allow window is open) no earlier than the next allow start.
    let after_denies = deny_ends.iter().copied().max();
    let next_allow = (!allow_open)
        .then(|| allow_starts.iter().copied().min())
        .flatten();
    Ok(Some(match (after_denies, next_allow, allow_open) {
        (Some(deny), Some(allow), _) => Some(deny.max(allow)),
        (Some(deny), None, true) => Some(deny),
        (None, Some(allow), _) => Some(allow),
        _ => None,
    }))
}

fn next_opening(windows: &[&SyncWindow], at_ms: u64) -> Result<Option<u64>> {
    let mut time = at_ms;
    for _ in 0..MAX_STEPS {
        match open_at(windows, time)? {
            None => return Ok(Some(time)),
            Some(Some(next)) if next > time && next <= at_ms.saturating_add(LOOKAHEAD_MS) => {
                time = next;
            }
            Some(_) => return Ok(None),
        }
    }
    Ok(None)
}

#[cfg(test)]
#[path = "window_tests.rs"]
mod tests;
