//! A `fleet-sim` cluster for agent tests, run on its own thread and tokio
//! runtime (so tests can block on `kubectl` and `fleetctl` without starving
//! the simulator), with `kubectl` pointed at it through a kubeconfig file.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use fleet_sim::{SimConfig, Simulator};
use serde_json::Value;

use crate::hub_process::Run;

/// One simulated cluster.
pub struct SimCluster {
    pub name: String,
    pub kubeconfig: PathBuf,
    _directory: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SimCluster {
    /// Starts a simulator named `name` (Deployments become available after 300 ms).
    pub fn start(name: &str) -> Self {
        Self::start_with_namespace_finalize_delay(name, Duration::ZERO)
    }

    /// Starts a simulator whose deleted namespaces stay `Terminating` for
    /// `delay` (`fleet-sim serve --namespace-finalize-delay`), as on a real
    /// API server.
    pub fn start_with_namespace_finalize_delay(name: &str, delay: Duration) -> Self {
        let directory = tempfile::tempdir().unwrap();
        let kubeconfig = directory.path().join("kubeconfig");
        let (ready_sender, ready) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = SimConfig {
            rollout_delay: Duration::from_millis(300),
            progress_deadline: Duration::from_secs(2),
            namespace_finalize_delay: delay,
            ..SimConfig::named(name)
        };
        let path = kubeconfig.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let simulator = Simulator::start(config).await.unwrap();
                simulator.write_kubeconfig(&path).unwrap();
                ready_sender.send(()).unwrap();
                let _ = stopped.await;
                simulator.shutdown().await;
            });
        });
        ready.recv_timeout(Duration::from_secs(60)).unwrap();
        Self {
            name: name.to_owned(),
            kubeconfig,
            _directory: directory,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Runs kubectl against this cluster.
    pub fn kubectl(&self, arguments: &[&str]) -> Run {
        self.kubectl_with_input(arguments, None)
    }

    /// Runs kubectl with `input` on stdin.
    pub fn kubectl_with_input(&self, arguments: &[&str], input: Option<&str>) -> Run {
        use std::io::Write;
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(arguments)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        if let Some(mut stdin) = child.stdin.take()
            && let Some(input) = input
        {
            stdin.write_all(input.as_bytes()).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// `kubectl get <kind> <name> -o json` (`namespace` empty for
    /// cluster-scoped kinds); `None` when it does not exist.
    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let mut arguments = vec!["get", kind, name, "-o", "json"];
        if !namespace.is_empty() {
            arguments.extend(["--namespace", namespace]);
        }
        let run = self.kubectl(&arguments);
        if run.code != 0 {
            assert!(
                run.stderr.contains("NotFound") || run.stderr.contains("not found"),
                "kubectl {arguments:?}: {}",
                run.stderr
            );
            return None;
        }
        Some(serde_json::from_str(&run.stdout).unwrap())
    }
}

impl Drop for SimCluster {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
