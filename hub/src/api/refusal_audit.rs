//! Audits refused mutating calls, bounded: one hub node writes at most
//! `users.refusalAuditsPerMinute` refusals a minute to the audit log; past
//! that it only counts them, and the next refusal it writes says how many
//! were left out. So a refusal storm costs at most that many Raft entries a
//! minute per node, and retention (`retention.auditEntries`,
//! `retention.auditMaxAge`) trims them like every other entry.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::warn;

use crate::clock::now_ms;
use crate::state::{Command, Refusal};
use crate::store::FleetStore;

/// The window the limit counts in.
const WINDOW: Duration = Duration::from_secs(60);

/// The per-node limiter and writer of refusal audit entries.
#[derive(Debug)]
pub struct RefusalAudit {
    per_window: u32,
    window: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    written: u32,
    left_out: u64,
}

impl RefusalAudit {
    /// At most `per_minute` refusals written a minute (0: none).
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_window: per_minute,
            window: Mutex::new(Window {
                started: Instant::now(),
                written: 0,
                left_out: 0,
            }),
        }
    }

    /// Whether one more refusal may be written now; with how many were left
    /// out before it.
    fn admit(&self) -> Option<u64> {
        let mut window = match self.window.lock() {
            Ok(window) => window,
            Err(poisoned) => poisoned.into_inner(),
        };
        if window.started.elapsed() >= WINDOW {
            window.started = Instant::now();
            window.written = 0;
        }
        if window.written >= self.per_window {
            window.left_out += 1;
            return None;
        }
        window.written += 1;
        Some(std::mem::take(&mut window.left_out))
    }

    /// Writes one refusal to the audit log, if the limit allows.
    pub async fn record(
        &self,
        store: &FleetStore,
        actor: &str,
        role: &str,
        action: &str,
        reason: &str,
    ) {
        let Some(left_out) = self.admit() else {
            return;
        };
        let reason = if left_out > 0 {
            format!(
                "{reason} ({left_out} earlier refusals on this node were not audited: over users.refusalAuditsPerMinute)"
            )
        } else {
            reason.to_owned()
        };
        let command = Command::AuditRefusals {
            refusals: vec![Refusal {
                actor: actor.to_owned(),
                role: role.to_owned(),
                action: action.to_owned(),
                reason,
            }],
            at_ms: now_ms(),
        };
        if let Err(error) = store.write(command).await {
            warn!(actor, action, "could not audit a refused call: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_past_the_limit_are_counted_not_written() {
        let audit = RefusalAudit::new(2);
        assert_eq!(audit.admit(), Some(0));
        assert_eq!(audit.admit(), Some(0));
        assert_eq!(audit.admit(), None);
        assert_eq!(audit.admit(), None);
        // A new window reports what the last one left out.
        audit.window.lock().unwrap().started -= WINDOW;
        assert_eq!(audit.admit(), Some(2));
        assert_eq!(audit.admit(), Some(0));
    }
}
