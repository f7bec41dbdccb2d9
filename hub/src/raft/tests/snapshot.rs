//! A node restarts from its last snapshot plus the log entries after it.

use super::{WAIT, audit, create_token, enroll, start_leader, test_settings, write_applied};
use crate::raft::RaftSettings;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_from_a_snapshot_and_later_entries_yields_the_same_state() {
    let directory = tempfile::tempdir().expect("temp dir");
    // Snapshots only on demand, and no log kept behind them: after the
    // restart, the state before the snapshot can only come from it.
    let settings = RaftSettings {
        snapshot_every: 1_000_000,
        logs_to_keep_after_snapshot: 0,
        ..test_settings()
    };
    let handle = start_leader(directory.path(), settings.clone()).await;
    write_applied(&handle, create_token("hash-a", "cluster-a", 1_000)).await;
    write_applied(&handle, enroll("hash-a", "cluster-a", "serial-1", 2_000)).await;
    for step in 0..5 {
        write_applied(&handle, audit(&format!("refresh {step}"), 3_000 + step)).await;
    }

    // Raft's metrics trail the applied state a little; wait for them.
    let snapshot_at = handle
        .raft()
        .wait(Some(WAIT))
        .applied_index(Some(handle.state().applied_index()), "metrics catch up")
        .await
        .expect("metrics catch up")
        .last_applied;
    handle.raft().trigger().snapshot().await.expect("raft runs");
    handle
        .raft()
        .wait(Some(WAIT))
        .metrics(
            |metrics| metrics.snapshot == snapshot_at && metrics.purged == snapshot_at,
            "snapshot built and log purged",
        )
        .await
        .expect("snapshot is built and the log behind it purged");

    write_applied(&handle, create_token("hash-b", "cluster-b", 9_000)).await;
    write_applied(&handle, audit("after the snapshot", 9_500)).await;
    let before = handle.state().clone_state();
    let applied_before = handle.state().applied_index();
    handle.shutdown().await.expect("clean shutdown");

    let handle = start_leader(directory.path(), settings).await;
    let metrics = handle.raft().metrics().borrow().clone();
    assert_eq!(metrics.snapshot, snapshot_at, "the snapshot survived");
    assert_eq!(metrics.purged, snapshot_at, "the log before it is gone");
    assert_eq!(handle.state().clone_state(), before);
    assert!(handle.state().applied_index() >= applied_before);

    write_applied(&handle, enroll("hash-b", "cluster-b", "serial-2", 10_000)).await;
    assert!(
        handle
            .state()
            .read(|state| state.is_current_agent("cluster-b", "serial-2"))
    );
    handle.shutdown().await.expect("clean shutdown");
}
