//! Sync windows at scripted times, daylight saving changes in Europe/Berlin
//! included.

use super::*;

fn at(utc: &str) -> u64 {
    let timestamp: Timestamp = utc.parse().unwrap();
    u64::try_from(timestamp.as_millisecond()).unwrap()
}

fn window(
    kind: WindowKind,
    schedule: &str,
    hours: u64,
    timezone: &str,
    waves: &[&str],
) -> SyncWindow {
    SyncWindow {
        kind,
        schedule: schedule.to_owned(),
        duration_ms: hours * 3600 * 1000,
        timezone: timezone.to_owned(),
        waves: waves.iter().map(|wave| (*wave).to_owned()).collect(),
    }
}

#[test]
fn a_weekend_freeze_in_berlin_denies_from_friday_evening_to_monday_morning() {
    // Friday 18:00 in Berlin for 64 h: in winter (CET, UTC+1) 17:00 UTC.
    let freeze = [window(
        WindowKind::Deny,
        "0 18 * * 5",
        64,
        "Europe/Berlin",
        &["production"],
    )];
    assert_eq!(
        wave_window_state(&freeze, "production", at("2026-12-04T16:59:00Z")),
        WindowState::Open
    );
    assert_eq!(
        wave_window_state(&freeze, "production", at("2026-12-04T17:00:00Z")),
        WindowState::Closed {
            opens_at_ms: Some(at("2026-12-07T09:00:00Z"))
        },
        "Friday 18:00 CET + 64 h = Monday 10:00 CET"
    );
    assert_eq!(
        wave_window_state(&freeze, "canary", at("2026-12-05T12:00:00Z")),
        WindowState::Open,
        "a window naming waves leaves the others alone"
    );
    // In summer (CEST, UTC+2) the same wall clock time is 16:00 UTC.
    assert!(matches!(
        wave_window_state(&freeze, "production", at("2026-07-03T16:00:00Z")),
        WindowState::Closed { .. }
    ));
    assert_eq!(
        wave_window_state(&freeze, "production", at("2026-07-03T15:59:00Z")),
        WindowState::Open
    );
}

#[test]
fn a_window_across_the_autumn_change_lasts_its_duration_in_absolute_time() {
    // 2026-10-25: at 03:00 CEST clocks go back to 02:00 CET.
    // 01:00 CEST (23:00 UTC the day before) + 3 h = 02:00 UTC (03:00 CET).
    let nightly = [window(
        WindowKind::Deny,
        "0 1 * * *",
        3,
        "Europe/Berlin",
        &[],
    )];
    assert!(matches!(
        wave_window_state(&nightly, "any", at("2026-10-25T01:59:00Z")),
        WindowState::Closed {
            opens_at_ms: Some(end)
        } if end == at("2026-10-25T02:00:00Z")
    ));
    assert_eq!(
        wave_window_state(&nightly, "any", at("2026-10-25T02:00:00Z")),
        WindowState::Open
    );
    // The next night starts at 01:00 CET = 00:00 UTC.
    assert!(matches!(
        wave_window_state(&nightly, "any", at("2026-10-26T00:00:00Z")),
        WindowState::Closed { .. }
    ));
    assert_eq!(
        wave_window_state(&nightly, "any", at("2026-10-25T23:59:00Z")),
        WindowState::Open
    );
}

#[test]
fn an_allow_window_starting_in_the_skipped_spring_hour_still_opens() {
    // 2026-03-29: at 02:00 CET clocks jump to 03:00 CEST; 02:30 does not
    // exist that night. The window must not be skipped for the day: it
    // opens when the clock jumps (01:00 UTC).
    let allow = [window(
        WindowKind::Allow,
        "30 2 * * *",
        2,
        "Europe/Berlin",
        &["production"],
    )];
    let state = wave_window_state(&allow, "production", at("2026-03-29T00:00:00Z"));
    let WindowState::Closed {
        opens_at_ms: Some(opens),
    } = state
    else {
        panic!("closed before the window, with an opening: {state:?}");
    };
    assert!(
        opens >= at("2026-03-29T00:30:00Z") && opens <= at("2026-03-29T01:30:00Z"),
        "opens that night, around the jump: {opens}"
    );
    assert_eq!(
        wave_window_state(&allow, "production", at("2026-03-29T02:00:00Z")),
        WindowState::Open
    );
    assert!(matches!(
        wave_window_state(&allow, "production", at("2026-03-29T04:00:00Z")),
        WindowState::Closed { .. }
    ));
}

#[test]
fn allow_windows_gate_only_the_waves_they_name_and_deny_wins() {
    // Allowed on weekdays 09:00–17:00 UTC; denied every day 12:00–13:00.
    let windows = [
        window(WindowKind::Allow, "0 9 * * 1-5", 8, "UTC", &["production"]),
        window(WindowKind::Deny, "0 12 * * *", 1, "UTC", &[]),
    ];
    // Saturday: production waits until Monday 09:00; canary is free.
    assert_eq!(
        wave_window_state(&windows, "production", at("2026-12-05T10:00:00Z")),
        WindowState::Closed {
            opens_at_ms: Some(at("2026-12-07T09:00:00Z"))
        }
    );
    assert_eq!(
        wave_window_state(&windows, "canary", at("2026-12-05T10:00:00Z")),
        WindowState::Open
    );
    // Monday lunch: the deny window wins, and the allow window is still open after it.
    assert_eq!(
        wave_window_state(&windows, "production", at("2026-12-07T12:30:00Z")),
        WindowState::Closed {
            opens_at_ms: Some(at("2026-12-07T13:00:00Z"))
        }
    );
    assert_eq!(
        wave_window_state(&windows, "production", at("2026-12-07T14:00:00Z")),
        WindowState::Open
    );
}

#[test]
fn bad_schedules_and_time_zones_are_refused() {
    assert!(parse_schedule("0 18 * * 5").is_ok());
    assert!(parse_schedule("0 0 18 * * 5").is_err(), "six fields");
    assert!(parse_schedule("61 18 * * 5").is_err());
    assert!(parse_schedule("every friday").is_err());
    assert!(parse_timezone("Europe/Berlin").is_ok());
    assert!(parse_timezone("Mars/Olympus").is_err());
}
