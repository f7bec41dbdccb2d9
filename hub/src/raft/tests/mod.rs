//! Tests of the hub's Raft: openraft's conformance suite on the redb stores,
//! and real single-node Raft instances restarted on the same directory.

mod conformance;
mod restart;
mod snapshot;

use std::path::Path;
use std::time::Duration;

use super::{RaftHandle, RaftSettings, start};
use crate::state::{Command, CommandResult};

/// How long a test waits for Raft to reach a state before failing.
const WAIT: Duration = Duration::from_secs(10);

/// Fast timeouts so the tests elect quickly.
fn test_settings() -> RaftSettings {
    RaftSettings {
        heartbeat_interval: Duration::from_millis(50),
        election_timeout_min: Duration::from_millis(150),
        election_timeout_max: Duration::from_millis(300),
        ..RaftSettings::new("127.0.0.1:7400")
    }
}

/// Starts node 1 on `directory` and waits until it leads.
async fn start_leader(directory: &Path, settings: RaftSettings) -> RaftHandle {
    let handle = start(directory, 1, settings).await.expect("raft starts");
    handle
        .raft()
        .wait(Some(WAIT))
        .current_leader(1, "node 1 leads")
        .await
        .expect("node 1 becomes leader");
    handle
}

/// Writes `command` and asserts it was applied.
async fn write_applied(handle: &RaftHandle, command: Command) {
    let result = handle.write(command.clone()).await.expect("write commits");
    assert_eq!(result, CommandResult::Applied, "{command:?}");
}

fn create_token(token_hash: &str, cluster: &str, at_ms: u64) -> Command {
    Command::CreateToken {
        token_hash: token_hash.to_owned(),
        cluster: cluster.to_owned(),
        at_ms,
        expires_at_ms: at_ms + 3_600_000,
        actor: "spiffe://fleet/admin/ops".to_owned(),
    }
}

fn enroll(token_hash: &str, cluster: &str, serial: &str, at_ms: u64) -> Command {
    Command::Enroll {
        token_hash: token_hash.to_owned(),
        cluster: cluster.to_owned(),
        serial: serial.to_owned(),
        at_ms,
        expires_at_ms: at_ms + 86_400_000,
    }
}

fn audit(action: &str, at_ms: u64) -> Command {
    Command::Audit {
        actor: "spiffe://fleet/admin/ops".to_owned(),
        action: action.to_owned(),
        at_ms,
    }
}
