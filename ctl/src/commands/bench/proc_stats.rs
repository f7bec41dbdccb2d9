//! A process's resident memory and CPU time, read from `/proc` (Linux).

use std::path::PathBuf;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcReading {
    /// Resident set size now (bytes).
    pub rss_bytes: u64,
    /// Peak resident set size so far (bytes, `VmHWM`).
    pub peak_rss_bytes: u64,
    /// User + system CPU time so far (seconds).
    pub cpu_seconds: f64,
}

/// Reads `pid`'s figures; an error names the file that could not be read.
pub fn read(pid: u32) -> anyhow::Result<ProcReading> {
    let status_path = PathBuf::from(format!("/proc/{pid}/status"));
    let status = std::fs::read_to_string(&status_path)
        .map_err(|error| anyhow::anyhow!("{}: {error}", status_path.display()))?;
    let kib = |field: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    let stat_path = PathBuf::from(format!("/proc/{pid}/stat"));
    let stat = std::fs::read_to_string(&stat_path)
        .map_err(|error| anyhow::anyhow!("{}: {error}", stat_path.display()))?;
    Ok(ProcReading {
        rss_bytes: kib("VmRSS:"),
        peak_rss_bytes: kib("VmHWM:"),
        cpu_seconds: cpu_seconds(&stat).unwrap_or(0.0),
    })
}

/// utime + stime from a `/proc/PID/stat` line, in seconds.
fn cpu_seconds(stat: &str) -> Option<f64> {
    // The command name (field 2) may contain spaces; fields resume after ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    // USER_HZ is 100 on every Linux architecture Rust targets.
    100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let reading = read(std::process::id()).unwrap();
        assert!(reading.rss_bytes > 0);
        assert!(reading.peak_rss_bytes >= reading.rss_bytes);
    }

    #[test]
    fn parses_cpu_fields_after_a_name_with_spaces() {
        let stat = "42 (fleet hub) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 1 1 1";
        assert_eq!(cpu_seconds(stat), Some(3.0));
    }
}
