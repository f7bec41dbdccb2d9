//! A real `fleet-hub` process: `init` into a temporary directory, `serve`,
//! kill -9, restart; and `fleetctl` pointed at it through its own config file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::binaries::binary;
use crate::net::{free_port, github_signature, http};

/// What a fleetctl run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the output unless the run succeeded.
    pub fn success(self) -> Self {
        assert_eq!(
            self.code, 0,
            "fleetctl failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// One hub node process and its files.
pub struct HubProcess {
    pub directory: tempfile::TempDir,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    child: Option<Child>,
}

impl HubProcess {
    /// `fleet-hub init` for a hub following `repository_url`, rendering
    /// Helm apps with the test front end ([`crate::tools::configure_helm`]).
    pub fn init(repository_url: &str, poll_interval: &str) -> Self {
        let directory = tempfile::tempdir().unwrap();
        let grpc: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let output = Command::new(binary("fleet-hub"))
            .args([
                "init",
                "--dir",
                directory.path().join("hub").to_str().unwrap(),
                "--address",
                &grpc.to_string(),
                "--http-address",
                &http.to_string(),
                "--repo",
                repository_url,
                "--poll-interval",
                poll_interval,
                "--admin",
                "ops",
                "--fleetconfig",
                directory.path().join("fleetconfig.yaml").to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "fleet-hub init: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        crate::tools::configure_helm(&directory.path().join("hub/hub.yaml"));
        Self {
            directory,
            grpc,
            http,
            child: None,
        }
    }

    /// The hub's own folder (CA, certificates, hub.yaml, data).
    pub fn hub_dir(&self) -> PathBuf {
        self.directory.path().join("hub")
    }

    /// The file fleetctl reads.
    pub fn fleetconfig(&self) -> PathBuf {
        self.directory.path().join("fleetconfig.yaml")
    }

    /// `https://` endpoint of the gRPC port.
    pub fn endpoint(&self) -> String {
        format!("https://{}", self.grpc)
    }

    /// The CA certificate (PEM).
    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.hub_dir().join("ca.crt")).unwrap()
    }

    /// A file of the hub's folder.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.hub_dir().join(name)).unwrap()
    }

    /// Sets `enrollment.certificateValidity` in hub.yaml (before `start`):
    /// the lifetime of the agent certificates this hub signs, e.g. `30s`.
    pub fn set_agent_certificate_validity(&self, validity: &str) {
        self.set_setting("certificateValidity", validity);
    }

    /// Sets `enrollment.renewAfterFraction` in hub.yaml (before `start`):
    /// 0 lets tests renew fresh certificates on purpose.
    pub fn set_renew_after_fraction(&self, fraction: &str) {
        self.set_setting("renewAfterFraction", fraction);
    }

    /// Replaces the value of the one hub.yaml line `key: …` (keys are
    /// unique across sections in hub.yaml).
    pub fn set_setting(&self, key: &str, value: &str) {
        set_hub_setting(&self.hub_dir().join("hub.yaml"), key, value);
    }

    /// Starts `fleet-hub serve` and waits until `/readyz` says ready.
    pub fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.directory.path().join("hub.log"))
            .unwrap();
        let child = Command::new(binary("fleet-hub"))
            .args([
                "serve",
                "--config",
                self.hub_dir().join("hub.yaml").to_str().unwrap(),
            ])
            .env("FLEET_HUB_LOG", "info,openraft=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if let Ok((200, _)) = http(self.http, "GET", "/readyz", &[], b"") {
                return;
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("fleet-hub exited with {status}:\n{}", self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "hub not ready:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, then wait: the exit status (`None`: killed after a minute)
    /// and how long the hub took to exit.
    pub fn terminate(&mut self) -> (Option<std::process::ExitStatus>, Duration) {
        let mut child = self.child.take().expect("the hub runs");
        crate::termination::terminate(&mut child)
    }

    /// kill -9.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The hub's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.directory.path().join("hub.log")).unwrap_or_default()
    }

    /// Runs fleetctl against this hub.
    pub fn fleetctl(&self, arguments: &[&str]) -> Run {
        fleetctl_with_config(&self.fleetconfig(), arguments)
    }

    /// Calls the Git webhook signed with `secret`; returns the status code.
    pub fn webhook(&self, secret: &[u8]) -> u16 {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let signature = github_signature(secret, body);
        http(
            self.http,
            "POST",
            "/webhook/git",
            &[
                ("Content-Type", "application/json"),
                ("X-Hub-Signature-256", &signature),
            ],
            body,
        )
        .unwrap()
        .0
    }

    /// The webhook secret `init` generated.
    pub fn webhook_secret(&self) -> Vec<u8> {
        self.read("webhook-secret").trim().as_bytes().to_vec()
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs fleetctl with a given configuration file (and `FLEET_HELM` = the
/// test front end, for offline renders of fleets with Helm apps).
pub fn fleetctl_with_config(fleetconfig: &Path, arguments: &[&str]) -> Run {
    let output = Command::new(binary("fleetctl"))
        .args(arguments)
        .env("FLEETCONFIG", fleetconfig)
        .env("FLEET_HELM", crate::tools::helm())
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Replaces the value of the one line `key: …` of the hub.yaml at `path`
/// (keys are unique across sections in hub.yaml).
pub fn set_hub_setting(path: &Path, key: &str, value: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut found = false;
    let prefix = format!("{key}:");
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let indent = &line[..line.len() - line.trim_start().len()];
            if line.trim_start().starts_with(&prefix) {
                found = true;
                format!("{indent}{key}: {value}")
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert!(found, "no {key} in hub.yaml:\n{text}");
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}
