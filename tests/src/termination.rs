//! Stopping a child process the way systemd or the kubelet does: SIGTERM,
//! then wait for it to exit, timing how long that took.

use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// How long [`terminate`] waits before it gives up (and kills -9).
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);

/// Sends SIGTERM to `child` and waits for it to exit; returns its exit
/// status (`None` if it had to be killed after a minute) and how long it
/// took from the signal.
pub fn terminate(child: &mut Child) -> (Option<ExitStatus>, Duration) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -TERM {} failed", child.id());
    let sent = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return (Some(status), sent.elapsed());
        }
        if sent.elapsed() > GIVE_UP_AFTER {
            let _ = child.kill();
            let _ = child.wait();
            return (None, sent.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
