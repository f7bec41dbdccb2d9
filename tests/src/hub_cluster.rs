//! A hub of several real `fleet-hub` processes on loopback: node 1 is made
//! by `fleet-hub init`, the others by `fleet-hub init --join` with a join
//! token from `fleetctl hub join-token`. Node `i` listens on `127.0.0.(10+i)`
//! and is reached — by peers, agents and fleetctl alike — through a
//! [`LinkProxy`] on the same address, so tests can kill, wipe and cut off
//! single nodes.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::binaries::binary;
use crate::hub_node::{HubNode, node_ip};
use crate::hub_process::{Run, fleetctl_with_config};
use crate::link_proxy::LinkProxy;

/// Snapshot interval every cluster test node gets (small, so a node that
/// was down or is new catches up from a snapshot).
pub const TEST_SNAPSHOT_EVERY: u64 = 50;
/// Log entries kept behind a snapshot in the tests.
pub const TEST_LOGS_TO_KEEP: u64 = 10;

/// A hub of `n` nodes and a fleetctl configuration listing all of them.
pub struct HubCluster {
    pub root: tempfile::TempDir,
    pub nodes: Vec<HubNode>,
    /// hub.yaml settings (`key`, value) every node gets before it starts.
    settings: Vec<(String, String)>,
}

impl HubCluster {
    /// Node 1 made by `init` following `repository_url`, then `size - 1`
    /// nodes joined one by one; returns once all are voters.
    pub fn start(repository_url: &str, size: u64) -> Self {
        Self::start_with(repository_url, size, &[])
    }

    /// Like [`HubCluster::start`], with hub.yaml `settings` (`key`, value:
    /// keys are unique across hub.yaml's sections) on every node, including
    /// nodes joined later.
    pub fn start_with(repository_url: &str, size: u64, settings: &[(&str, &str)]) -> Self {
        let settings: Vec<(String, String)> = settings
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        // Build (or find) the binaries first: their build is not the hub's time.
        binary("fleet-hub");
        let started = Instant::now();
        let root = tempfile::tempdir().unwrap();
        let (name, listen, http_address, folder, ip) = HubNode::prepare(root.path(), 1);
        let proxy = LinkProxy::start(SocketAddr::new(ip, 0), listen);
        let output = Command::new(binary("fleet-hub"))
            .args([
                "init",
                "--dir",
                folder.to_str().unwrap(),
                "--name",
                &name,
                "--node-id",
                "1",
                "--address",
                &listen.to_string(),
                "--advertise-address",
                &proxy.listen.to_string(),
                "--http-address",
                &http_address.to_string(),
                "--repo",
                repository_url,
                "--poll-interval",
                "1h",
                "--admin",
                "ops",
                "--fleetconfig",
                root.path()
                    .join("node-1.fleetconfig.yaml")
                    .to_str()
                    .unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "fleet-hub init: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        tune(&folder, &settings);
        let mut first = HubNode {
            name,
            node_id: 1,
            listen,
            proxy,
            http: http_address,
            folder,
            child: None,
        };
        first.start();
        let mut cluster = Self {
            root,
            nodes: vec![first],
            settings,
        };
        cluster.write_fleetconfigs();
        eprintln!("hub-1 ready after {} ms", started.elapsed().as_millis());
        for node_id in 2..=size {
            cluster.join(node_id);
            eprintln!(
                "hub-{node_id} joined and ready after {} ms",
                started.elapsed().as_millis()
            );
        }
        cluster.await_voters(size as usize);
        eprintln!("{size} voters after {} ms", started.elapsed().as_millis());
        cluster
    }

    /// Joins node `node_id` (a fresh folder) through node 1 and starts it
    /// (no fleetctl configuration is touched).
    pub fn join(&mut self, node_id: u64) {
        self.join_recorded_in(node_id, None);
    }

    /// Joins node `node_id` like [`HubCluster::join`]; with `fleetconfig`,
    /// `fleet-hub init --join --fleetconfig FILE` adds the node's endpoint to
    /// the context there that lists the node it joined through.
    pub fn join_recorded_in(&mut self, node_id: u64, fleetconfig: Option<&Path>) {
        let token = self
            .fleetctl(&["hub", "join-token"])
            .success()
            .stdout
            .trim()
            .to_owned();
        let (name, listen, http_address, folder, ip) = HubNode::prepare(self.root.path(), node_id);
        let _ = std::fs::remove_dir_all(&folder);
        let proxy = LinkProxy::start(SocketAddr::new(ip, 0), listen);
        let via = self
            .nodes
            .iter()
            .find(|node| node.running())
            .map(HubNode::endpoint)
            .unwrap();
        let output = Command::new(binary("fleet-hub"))
            .args([
                "init",
                "--dir",
                folder.to_str().unwrap(),
                "--name",
                &name,
                "--node-id",
                &node_id.to_string(),
                "--address",
                &listen.to_string(),
                "--advertise-address",
                &proxy.listen.to_string(),
                "--http-address",
                &http_address.to_string(),
                "--join",
                &via,
                "--join-token",
                &token,
                "--join-ca",
                self.ca_file().to_str().unwrap(),
            ])
            .args(match fleetconfig {
                Some(file) => vec!["--fleetconfig".to_owned(), file.display().to_string()],
                None => vec!["--no-fleetconfig".to_owned()],
            })
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "fleet-hub init --join: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        tune(&folder, &self.settings);
        let mut node = HubNode {
            name,
            node_id,
            listen,
            proxy,
            http: http_address,
            folder,
            child: None,
        };
        node.start();
        self.nodes.retain(|existing| existing.node_id != node_id);
        self.nodes.push(node);
        self.nodes.sort_by_key(|node| node.node_id);
        self.write_fleetconfigs();
    }

    /// The hub CA certificate file.
    pub fn ca_file(&self) -> PathBuf {
        self.root.path().join("hub-1").join("ca.crt")
    }

    /// The CA certificate (PEM).
    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.ca_file()).unwrap()
    }

    /// Writes `all.fleetconfig.yaml` (every node's endpoint) and one file
    /// per node, all with node 1's admin certificate.
    fn write_fleetconfigs(&self) {
        let hub_1 = self.root.path().join("hub-1");
        let write = |file: &str, endpoints: Vec<String>| {
            let list: String = endpoints
                .iter()
                .map(|endpoint| format!("  - {endpoint}\n"))
                .collect();
            let text = format!(
                "currentContext: hub\ncontexts:\n- name: hub\n  endpoints:\n{list}  ca: {}\n  certificate: {}\n  key: {}\n",
                hub_1.join("ca.crt").display(),
                hub_1.join("admin.crt").display(),
                hub_1.join("admin.key").display()
            );
            std::fs::write(self.root.path().join(file), text).unwrap();
        };
        write(
            "all.fleetconfig.yaml",
            self.nodes.iter().map(HubNode::endpoint).collect(),
        );
        for node in &self.nodes {
            write(
                &format!("node-{}.fleetconfig.yaml", node.node_id),
                vec![node.endpoint()],
            );
        }
    }

    /// fleetctl against whichever node answers first.
    pub fn fleetctl(&self, arguments: &[&str]) -> Run {
        fleetctl_with_config(&self.root.path().join("all.fleetconfig.yaml"), arguments)
    }

    /// fleetctl against one node.
    pub fn fleetctl_on(&self, node_id: u64, arguments: &[&str]) -> Run {
        fleetctl_with_config(
            &self
                .root
                .path()
                .join(format!("node-{node_id}.fleetconfig.yaml")),
            arguments,
        )
    }

    /// `fleetctl hub members -o json` asked of one node (None if it fails).
    pub fn members_on(&self, node_id: u64) -> Option<Value> {
        let run = self.fleetctl_on(node_id, &["hub", "members", "-o", "json"]);
        (run.code == 0)
            .then(|| serde_json::from_str(&run.stdout).ok())
            .flatten()
    }

    /// The leader's node id as `node_id` sees it (None: none known).
    pub fn leader_seen_by(&self, node_id: u64) -> Option<u64> {
        self.members_on(node_id)
            .and_then(|members| members["leaderId"].as_u64())
            .filter(|leader| *leader != 0)
    }

    /// The leader every running node agrees on, if they agree and it runs.
    pub fn agreed_leader(&self) -> Option<u64> {
        let mut seen = self
            .nodes
            .iter()
            .filter(|node| node.running())
            .map(|node| self.leader_seen_by(node.node_id));
        let first = seen.next()??;
        let running = self
            .nodes
            .iter()
            .any(|node| node.node_id == first && node.running());
        (running && seen.all(|leader| leader == Some(first))).then_some(first)
    }

    /// Waits until every running node names the same leader; returns it.
    pub fn await_leader(&self) -> u64 {
        let started = Instant::now();
        loop {
            if let Some(leader) = self.agreed_leader() {
                return leader;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no agreed leader:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until `count` voters are in the membership.
    pub fn await_voters(&self, count: usize) {
        let started = Instant::now();
        loop {
            let voters = self
                .nodes
                .iter()
                .filter(|node| node.running())
                .find_map(|node| self.members_on(node.node_id))
                .map(|members| {
                    members["members"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|member| member["role"] == "voter" || member["role"] == "leader")
                        .count()
                })
                .unwrap_or(0);
            if voters == count {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "expected {count} voters, have {voters}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The node with this id.
    pub fn node(&mut self, node_id: u64) -> &mut HubNode {
        self.nodes
            .iter_mut()
            .find(|node| node.node_id == node_id)
            .unwrap()
    }

    /// Cuts node `node_id` off from every other node (both directions);
    /// agents and fleetctl still reach it.
    pub fn isolate(&self, node_id: u64) {
        let others: Vec<IpAddr> = self
            .nodes
            .iter()
            .filter(|node| node.node_id != node_id)
            .map(HubNode::ip)
            .collect();
        for node in &self.nodes {
            if node.node_id == node_id {
                node.proxy.block(&others);
            } else {
                node.proxy.block(&[node_ip(node_id)]);
            }
        }
    }

    /// Restores every link.
    pub fn heal(&self) {
        for node in &self.nodes {
            node.proxy.unblock_all();
        }
    }

    /// Every node's log, for failure messages.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|node| format!("===== {} =====\n{}", node.name, tail(&node.log(), 60)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Sets the test Raft settings in a node's hub.yaml (`raft.snapshotEvery`,
/// `raft.logsToKeep`), the test Helm front end (`render.helm`), then
/// `settings`.
fn tune(folder: &Path, settings: &[(String, String)]) {
    let path = folder.join("hub.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("snapshotEvery: 1000"), "{text}");
    let text = text
        .replace(
            "snapshotEvery: 1000",
            &format!("snapshotEvery: {TEST_SNAPSHOT_EVERY}"),
        )
        .replace(
            "logsToKeep: 1000",
            &format!("logsToKeep: {TEST_LOGS_TO_KEEP}"),
        );
    std::fs::write(&path, text).unwrap();
    crate::tools::configure_helm(&path);
    for (key, value) in settings {
        crate::hub_process::set_hub_setting(&path, key, value);
    }
}

impl HubCluster {
    /// An admin gRPC client on node `node_id` (None if it does not answer).
    pub async fn admin(
        &self,
        node_id: u64,
    ) -> Option<fleet_proto::admin_service_client::AdminServiceClient<tonic::transport::Channel>>
    {
        let hub_1 = self.root.path().join("hub-1");
        let node = self.nodes.iter().find(|node| node.node_id == node_id)?;
        let channel = tokio::time::timeout(
            Duration::from_secs(3),
            crate::agent_client::channel(
                &node.endpoint(),
                &self.ca_pem(),
                Some((
                    &std::fs::read_to_string(hub_1.join("admin.crt")).unwrap(),
                    &std::fs::read_to_string(hub_1.join("admin.key")).unwrap(),
                )),
            ),
        )
        .await
        .ok()?
        .ok()?;
        Some(fleet_proto::admin_service_client::AdminServiceClient::new(
            channel,
        ))
    }

    /// Mints a token for each cluster and enrolls it on node
    /// `(index % nodes) + 1`; starts a roaming responder for each.
    pub async fn enroll_roaming(
        &self,
        clusters: &[&str],
    ) -> Vec<crate::roaming_agent::RoamingAgent> {
        let mut agents = Vec::new();
        for (index, cluster) in clusters.iter().enumerate() {
            let node = &self.nodes[index % self.nodes.len()];
            let token = self
                .fleetctl_on(node.node_id, &["token", "create", "--cluster", cluster])
                .success()
                .stdout
                .trim()
                .to_owned();
            let agent =
                crate::agent_client::enroll(&node.endpoint(), &self.ca_pem(), cluster, &token)
                    .await
                    .unwrap();
            agents.push(crate::roaming_agent::spawn_roaming_responder(agent));
        }
        agents
    }

    /// The audit log (`sequence actor action` lines) as node `node_id` has it.
    pub fn audit_on(&self, node_id: u64) -> Option<Vec<String>> {
        let run = self.fleetctl_on(node_id, &["audit", "-o", "json"]);
        if run.code != 0 {
            return None;
        }
        let entries: Value = serde_json::from_str(&run.stdout).ok()?;
        Some(
            entries
                .as_array()?
                .iter()
                .map(|entry| {
                    format!(
                        "{} {} {}",
                        entry["sequence"], entry["actor"], entry["action"]
                    )
                })
                .collect(),
        )
    }
}
