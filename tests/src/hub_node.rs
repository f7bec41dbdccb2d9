//! One `fleet-hub` process of a [`crate::hub_cluster::HubCluster`]: its
//! folder, its real gRPC port, the [`LinkProxy`] everyone reaches it
//! through, and its log.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::binaries::binary;
use crate::link_proxy::LinkProxy;
use crate::net::{free_port_on, http};

/// One hub node process.
pub struct HubNode {
    pub name: String,
    pub node_id: u64,
    /// Where its real gRPC port listens.
    pub listen: SocketAddr,
    /// Its proxy: the address everyone reaches it at.
    pub proxy: LinkProxy,
    pub http: SocketAddr,
    pub folder: PathBuf,
    pub(crate) child: Option<Child>,
}

/// The loopback address node `node_id` listens on.
pub(crate) fn node_ip(node_id: u64) -> IpAddr {
    format!("127.0.0.{}", 10 + node_id).parse().unwrap()
}

impl HubNode {
    /// Name, listen and HTTP addresses, folder and IP of node `node_id`.
    pub(crate) fn prepare(
        root: &Path,
        node_id: u64,
    ) -> (String, SocketAddr, SocketAddr, PathBuf, IpAddr) {
        let ip = node_ip(node_id);
        let listen = SocketAddr::new(ip, free_port_on(ip));
        let http = SocketAddr::new(ip, free_port_on(ip));
        let folder = root.join(format!("hub-{node_id}"));
        (format!("hub-{node_id}"), listen, http, folder, ip)
    }

    /// `https://` endpoint (through its proxy).
    pub fn endpoint(&self) -> String {
        format!("https://{}", self.proxy.listen)
    }

    /// The address its peer connections come from.
    pub fn ip(&self) -> IpAddr {
        node_ip(self.node_id)
    }

    /// Starts `fleet-hub serve` (does not wait).
    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let child = Command::new(binary("fleet-hub"))
            .args([
                "serve",
                "--config",
                self.folder.join("hub.yaml").to_str().unwrap(),
            ])
            // FLEET_TEST_HUB_LOG (e.g. `info,openraft=info`) to see elections.
            .env(
                "FLEET_HUB_LOG",
                std::env::var("FLEET_TEST_HUB_LOG")
                    .unwrap_or_else(|_| "info,openraft=warn".to_owned()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// Whether `/readyz` says ready (a leader is known and Git was read).
    pub fn ready(&self) -> bool {
        matches!(http(self.http, "GET", "/readyz", &[], b""), Ok((200, _)))
    }

    /// Starts and waits until ready.
    pub fn start(&mut self) {
        self.spawn();
        let started = Instant::now();
        while !self.ready() {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("{} exited with {status}:\n{}", self.name, self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{} not ready:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, then wait: the exit status (`None`: killed after a minute)
    /// and how long the node took to exit. Its proxy is left as it is.
    pub fn terminate(&mut self) -> (Option<std::process::ExitStatus>, Duration) {
        let mut child = self.child.take().expect("the node runs");
        crate::termination::terminate(&mut child)
    }

    /// kill -9 (and cut the connections its proxy held).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.proxy.cut_all();
    }

    /// Whether the process runs.
    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    fn log_path(&self) -> PathBuf {
        self.folder.with_extension("log")
    }

    /// The node's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

impl Drop for HubNode {
    fn drop(&mut self) {
        self.kill();
    }
}
