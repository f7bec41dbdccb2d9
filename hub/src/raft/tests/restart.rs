//! A single hub node writes, reads, stops and resumes on the same directory.

use openraft::ServerState;

use super::{WAIT, audit, create_token, enroll, start_leader, test_settings, write_applied};
use crate::state::CommandResult;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_keeps_its_state_and_goes_on_writing() {
    let directory = tempfile::tempdir().expect("temp dir");
    let handle = start_leader(directory.path(), test_settings()).await;
    let mut applied = handle.state().subscribe();
    let index_before = *applied.borrow_and_update();

    write_applied(&handle, create_token("hash-a", "cluster-a", 1_000)).await;
    write_applied(&handle, enroll("hash-a", "cluster-a", "serial-1", 2_000)).await;
    let replay = handle
        .write(enroll("hash-a", "cluster-a", "serial-2", 3_000))
        .await
        .expect("write commits");
    assert_eq!(
        replay,
        CommandResult::Rejected("bootstrap token was already used".to_owned())
    );
    write_applied(&handle, audit("refreshed the fleet repository", 4_000)).await;

    assert!(
        applied.has_changed().expect("sender alive"),
        "subscribers are told"
    );
    let index_after = *applied.borrow_and_update();
    assert!(
        index_after >= index_before + 4,
        "{index_before} -> {index_after}"
    );
    handle
        .raft()
        .wait(Some(WAIT))
        .applied_index(Some(handle.state().applied_index()), "metrics catch up")
        .await
        .expect("the shared state's index is Raft's applied index");

    let before = handle.state().clone_state();
    assert!(
        handle
            .state()
            .read(|state| state.is_current_agent("cluster-a", "serial-1"))
    );
    assert!(
        !handle
            .state()
            .read(|state| state.is_current_agent("cluster-a", "serial-2"))
    );
    assert_eq!(before.audit.len(), 3);
    assert_eq!(before.tokens["hash-a"].used_at_ms, Some(2_000));

    handle.shutdown().await.expect("clean shutdown");

    // The same directory again: resumed, not re-initialized.
    let handle = start_leader(directory.path(), test_settings()).await;
    assert_eq!(
        handle.state().clone_state(),
        before,
        "committed entries are re-applied"
    );
    assert!(handle.raft().is_initialized().await.expect("raft runs"));
    let metrics = handle.raft().metrics().borrow().clone();
    assert_eq!(metrics.state, ServerState::Leader);
    assert_eq!(
        metrics.membership_config.voter_ids().collect::<Vec<_>>(),
        vec![1]
    );

    write_applied(&handle, create_token("hash-b", "cluster-b", 5_000)).await;
    write_applied(&handle, enroll("hash-b", "cluster-b", "serial-3", 6_000)).await;
    let audit_log = handle.state().read(|state| state.audit.clone());
    assert_eq!(audit_log.len(), 5);
    assert_eq!(audit_log[..3], before.audit[..]);
    assert!(
        handle
            .state()
            .read(|state| state.is_current_agent("cluster-b", "serial-3"))
    );

    handle.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_does_not_bootstrap_waits_to_be_added() {
    let directory = tempfile::tempdir().expect("temp dir");
    let settings = crate::raft::RaftSettings {
        bootstrap: false,
        write_timeout: std::time::Duration::from_millis(300),
        ..test_settings()
    };
    let handle = crate::raft::start(directory.path(), 2, settings)
        .await
        .expect("raft starts");
    assert!(!handle.raft().is_initialized().await.expect("raft runs"));
    assert_eq!(handle.raft().current_leader().await, None);
    let error = handle
        .write(audit("refresh", 1_000))
        .await
        .expect_err("a node outside any cluster cannot commit");
    // No leader to forward to: after the bounded wait, a clear error.
    assert!(
        matches!(error, crate::raft::RaftError::NoLeader { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("no quorum"), "{error}");
    handle.shutdown().await.expect("clean shutdown");
}
