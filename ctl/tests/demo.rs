//! The README's main command, in its short mode: `fleetctl demo --fast`
//! runs a hub, simulated clusters and real agents, tells the whole story and
//! leaves nothing running.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::fleetctl;

#[test]
fn the_demo_tells_the_whole_story_and_cleans_up() {
    let run = fleetctl(&["demo", "--fast"]);
    assert_eq!(
        run.code, 0,
        "the demo failed\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let steps = [
        "1. Starting a hub",
        "2. The fleet converges to the first commit",
        "8 of 8 clusters Synced and Healthy",
        "3. A commit changes the web image 1.4.2 -> 1.5.0",
        "wave canary",
        "wave production WaitingApproval",
        "production still serves ghcr.io/example/web:1.4.2 (checked with kubectl on prod-us-1)",
        "rollout Succeeded: every cluster runs ghcr.io/example/web:1.5.0",
        "4. Someone edits a managed field by hand; the agent reverts it",
        "reverted to ghcr.io/example/web:1.5.0",
        "5. A commit with a failing image",
        "rollout RolledBack: wave canary failed",
        "production never saw ghcr.io/example/web:1.6.0-fail",
        "6. Summary",
        "7. Stopping everything",
    ];
    let mut position = 0;
    for step in steps {
        let found = run.stdout[position..].find(step);
        assert!(
            found.is_some(),
            "missing (in order) {step:?} in:\n{}",
            run.stdout
        );
        position += found.unwrap_or(0);
    }
}
