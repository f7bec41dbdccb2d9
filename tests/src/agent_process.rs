//! A real `fleet-agent` process pointed at a hub and a simulated cluster.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::binaries::binary;
use crate::hub_process::HubProcess;
use crate::net::free_port;
use crate::sim_cluster::SimCluster;

/// One agent process and its state directory.
pub struct AgentProcess {
    pub directory: tempfile::TempDir,
    pub metrics_port: u16,
    arguments: Vec<String>,
    child: Option<Child>,
}

impl AgentProcess {
    /// Starts an agent for `cluster`, enrolling with `token`.
    pub fn start(hub: &HubProcess, cluster: &SimCluster, token: &str) -> Self {
        Self::start_at(
            &hub.endpoint(),
            &hub.hub_dir().join("ca.crt"),
            cluster,
            token,
        )
    }

    /// Starts an agent for `cluster`, enrolling with `token`, with `extra`
    /// command-line arguments (e.g. `--sops-age-key-file FILE`).
    pub fn start_with_arguments(
        hub: &HubProcess,
        cluster: &SimCluster,
        token: &str,
        extra: &[&str],
    ) -> Self {
        let mut agent = Self::prepared(
            &hub.endpoint(),
            &hub.hub_dir().join("ca.crt"),
            cluster,
            token,
        );
        agent
            .arguments
            .extend(extra.iter().map(|argument| (*argument).to_owned()));
        agent.restart();
        agent
    }

    /// Starts an agent for `cluster` that enrolls at `endpoint` (the hub's
    /// CA in `ca_file`) with `token`.
    pub fn start_at(
        endpoint: &str,
        ca_file: &std::path::Path,
        cluster: &SimCluster,
        token: &str,
    ) -> Self {
        let mut agent = Self::prepared(endpoint, ca_file, cluster, token);
        agent.restart();
        agent
    }

    /// An agent's arguments and folder, not started yet.
    fn prepared(
        endpoint: &str,
        ca_file: &std::path::Path,
        cluster: &SimCluster,
        token: &str,
    ) -> Self {
        let directory = tempfile::tempdir().unwrap();
        let metrics_port = free_port();
        let arguments = vec![
            "--cluster".to_owned(),
            cluster.name.clone(),
            "--hub".to_owned(),
            endpoint.to_owned(),
            "--ca".to_owned(),
            ca_file.display().to_string(),
            "--token".to_owned(),
            token.to_owned(),
            "--state-dir".to_owned(),
            directory.path().join("state").display().to_string(),
            "--kubeconfig".to_owned(),
            cluster.kubeconfig.display().to_string(),
            "--listen".to_owned(),
            format!("127.0.0.1:{metrics_port}"),
        ];
        Self {
            directory,
            metrics_port,
            arguments,
            child: None,
        }
    }

    fn log_path(&self) -> PathBuf {
        self.directory.path().join("agent.log")
    }

    /// (Re)starts the process with the same arguments and state directory.
    pub fn restart(&mut self) {
        self.kill();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        // A benchmark may point at another build (e.g. a release binary).
        let program = std::env::var_os("FLEET_TEST_AGENT_BINARY")
            .map(PathBuf::from)
            .unwrap_or_else(|| binary("fleet-agent"));
        let child = Command::new(program)
            .args(&self.arguments)
            .env("FLEET_AGENT_LOG", "info,kube=warn,fleet_agent=debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// SIGTERM, then wait: the exit status (`None`: killed after a minute)
    /// and how long the agent took to exit.
    pub fn terminate(&mut self) -> (Option<std::process::ExitStatus>, std::time::Duration) {
        let mut child = self.child.take().expect("the agent runs");
        crate::termination::terminate(&mut child)
    }

    /// kill -9.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The process's resident memory in KiB (Linux `VmRSS`).
    pub fn resident_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find(|line| line.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    /// The agent's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The agent's state directory.
    pub fn state_dir(&self) -> PathBuf {
        self.directory.path().join("state")
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
