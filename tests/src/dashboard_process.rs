//! A `fleetctl dashboard` process for the tests, with a fleetctl
//! configuration (the hub's admin, or a user's); killed when dropped.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::binaries::binary;
use crate::net::{free_port, http};

/// A running dashboard on a free loopback port.
pub struct Dashboard {
    child: Child,
    /// Where it listens.
    pub address: SocketAddr,
}

impl Dashboard {
    /// Starts it and waits until its fleet page answers.
    pub fn start(fleetconfig: &Path) -> Self {
        let address: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let child = Command::new(binary("fleetctl"))
            .args([
                "dashboard",
                "--listen",
                &address.to_string(),
                "--no-open",
                "--reconnect",
                "500ms",
            ])
            .env("FLEETCONFIG", fleetconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !http(address, "GET", "/", &[], b"").is_ok_and(|(code, _)| code == 200) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the dashboard did not answer"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Self { child, address }
    }

    /// The URL of `path` on it.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// GET `path`: (status code, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        http(self.address, "GET", path, &[], b"").unwrap()
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
