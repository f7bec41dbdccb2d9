//! Shared helpers for fleet-sim's integration tests: start simulators on
//! ephemeral ports, build real `kube` clients from their kubeconfigs, and run
//! the real `kubectl` binary against them.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use fleet_sim::{RunningSimulator, SimConfig, Simulator};

/// A simulator plus a scratch directory holding its kubeconfig and a
/// private kubectl cache (so discovery caches never leak between tests).
pub struct TestCluster {
    pub simulator: RunningSimulator,
    pub directory: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

/// The default test config: fast rollouts so tests need not wait long.
pub fn fast_config() -> SimConfig {
    SimConfig {
        rollout_delay: Duration::from_millis(300),
        progress_deadline: Duration::from_millis(900),
        ..SimConfig::default()
    }
}

pub async fn start(config: SimConfig) -> TestCluster {
    let simulator = Simulator::start(config).await.expect("simulator starts");
    let directory = tempfile::tempdir().expect("temp dir");
    let kubeconfig = simulator
        .write_kubeconfig(directory.path().join("kubeconfig"))
        .expect("kubeconfig written");
    TestCluster {
        simulator,
        directory,
        kubeconfig,
    }
}

impl TestCluster {
    /// A `kube` client built from the simulator's kubeconfig (real TLS, real token).
    pub async fn client(&self) -> kube::Client {
        let kubeconfig = kube::config::Kubeconfig::from_yaml(self.simulator.kubeconfig())
            .expect("kubeconfig parses");
        let config = kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .expect("kube config");
        kube::Client::try_from(config).expect("kube client")
    }

    /// A `kubectl` command aimed at this simulator.
    pub fn kubectl_command(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new("kubectl");
        command
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.directory.path().join("kubectl-cache"))
            .args(arguments)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null());
        command
    }

    /// Runs kubectl to completion (off the async runtime's threads).
    pub async fn kubectl(&self, arguments: &[&str]) -> KubectlOutput {
        let mut command = self.kubectl_command(arguments);
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("kubectl task")
            .expect("kubectl runs");
        KubectlOutput::from(output)
    }

    /// Runs kubectl and insists it succeeded; returns stdout.
    pub async fn kubectl_ok(&self, arguments: &[&str]) -> String {
        let output = self.kubectl(arguments).await;
        assert!(
            output.success,
            "kubectl {arguments:?} failed:\nstdout: {}\nstderr: {}",
            output.stdout, output.stderr
        );
        output.stdout
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }
}

pub struct KubectlOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for KubectlOutput {
    fn from(output: Output) -> Self {
        Self {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Polls `check` until it returns `Some`, for up to 30 s (a generous bound,
/// not a timing assertion).
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Small config tweaks for tests.
pub trait SimConfigExt {
    fn with_watch_window(self, events: usize) -> SimConfig;
}

impl SimConfigExt for SimConfig {
    fn with_watch_window(mut self, events: usize) -> SimConfig {
        self.watch_window = events;
        self
    }
}
