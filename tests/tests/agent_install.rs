//! `fleetctl agent install --kubeconfig FILE` against fleet-sim: it mints a
//! token, applies the install manifests with kubectl and waits; the test
//! reads the applied Deployment and Secret back from the API and starts the
//! real `fleet-agent` exactly as the Deployment's container declares it
//! (see `fleet_tests::pod_process`), which must enroll, connect — ending
//! fleetctl's wait — and converge the cluster. Wrong flag names, env names
//! or mount paths in the manifests fail this test.
//!
//! The one input a pod gets that its spec does not declare is the in-cluster
//! API configuration (service account token and `KUBERNETES_SERVICE_HOST`);
//! the test gives the agent the simulator's kubeconfig instead, through
//! `FLEET_AGENT_KUBECONFIG`, the binary's documented alternative.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use fleet_tests::agent_support::{cluster_status, eventually, synced_and_healthy};
use fleet_tests::binaries::binary;
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::net::http;
use fleet_tests::pod_process::PodProcess;
use fleet_tests::sim_cluster::SimCluster;
use fleet_tests::tiny_fleet::web_fleet;

const WAIT: Duration = Duration::from_secs(90);

#[test]
fn fleetctl_agent_install_applies_manifests_the_agent_binary_runs_from() {
    let content = tempfile::tempdir().unwrap();
    web_fleet(content.path(), &["edge-1"]);
    let remote = FleetRemote::with_content(content.path());
    let revision = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    hub.start();
    let cluster = SimCluster::start("edge-1");

    // fleetctl applies the manifests, then waits for the agent to connect.
    let output = tempfile::tempdir().unwrap();
    let mut install = KillOnDrop(
        Command::new(binary("fleetctl"))
            .args(["agent", "install", "--cluster", "edge-1", "--kubeconfig"])
            .arg(&cluster.kubeconfig)
            .env("FLEETCONFIG", hub.fleetconfig())
            .stdout(std::fs::File::create(output.path().join("stdout")).unwrap())
            .stderr(std::fs::File::create(output.path().join("stderr")).unwrap())
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let install_stderr = || std::fs::read_to_string(output.path().join("stderr")).unwrap();
    let deployment = eventually(
        "fleetctl applied the Deployment",
        WAIT,
        || cluster.get("deployment", "fleet-system", "fleet-agent"),
        || format!("fleetctl stderr:\n{}", install_stderr()),
    );
    let secret_name = "fleet-agent-bootstrap";
    let secret = cluster.get("secret", "fleet-system", secret_name).unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    let service_account = pod["serviceAccountName"].as_str().unwrap();
    assert!(
        cluster
            .get("serviceaccount", "fleet-system", service_account)
            .is_some(),
        "the pod's service account {service_account} was not created"
    );
    let binding = cluster
        .get("clusterrolebinding", "", "fleet-agent")
        .unwrap();
    assert_eq!(binding["subjects"][0]["name"], service_account);
    assert_eq!(binding["subjects"][0]["namespace"], "fleet-system");
    assert!(
        cluster
            .get(
                "clusterrole",
                "",
                binding["roleRef"]["name"].as_str().unwrap()
            )
            .is_some()
    );
    // The image the Deployment names runs the binary as its entrypoint (the
    // container sets no `command`) as user 65532, the pod's runAsUser.
    let containerfile = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../deploy/containers/agent.Containerfile"),
    )
    .unwrap();
    assert!(
        containerfile.contains("ENTRYPOINT [\"/fleet-agent\"]")
            && containerfile.contains("USER 65532:65532"),
        "{containerfile}"
    );
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(
        pod["containers"][0]["image"],
        format!("localhost/fleet-agent:{}", env!("CARGO_PKG_VERSION"))
    );

    let secrets = BTreeMap::from([(secret_name.to_owned(), secret)]);
    let kubeconfig = cluster.kubeconfig.display().to_string();
    let mut agent = PodProcess::start(
        &binary("fleet-agent"),
        &deployment,
        &secrets,
        &[
            ("FLEET_AGENT_KUBECONFIG", kubeconfig.as_str()),
            ("FLEET_AGENT_LOG", "info,kube=warn"),
        ],
    );

    // fleetctl's wait ends once the agent has connected.
    let status = eventually(
        "fleetctl agent install returns",
        WAIT,
        || install.0.try_wait().unwrap(),
        || {
            format!(
                "fleetctl stderr:\n{}\nagent args {:?}\nagent log:\n{}",
                install_stderr(),
                agent.arguments,
                agent.log()
            )
        },
    );
    assert!(
        status.success(),
        "fleetctl agent install failed: {}",
        install_stderr()
    );
    assert!(
        install_stderr().contains("cluster edge-1 is connected"),
        "{}",
        install_stderr()
    );
    assert_eq!(cluster_status(&hub, "edge-1")["connected"], true);

    // The agent it started converges the cluster to the commit.
    eventually(
        "edge-1 synced and healthy",
        WAIT,
        || synced_and_healthy(&hub, "edge-1", &revision).then_some(()),
        || {
            format!(
                "{}\nagent log:\n{}",
                cluster_status(&hub, "edge-1"),
                agent.log()
            )
        },
    );
    let config = cluster.get("configmap", "web", "web-config").unwrap();
    assert_eq!(config["data"]["GREETING"], "hello");

    // The liveness probe the Deployment declares answers on --listen.
    let port = agent.listen_port.expect("the container declares --listen");
    let path = agent.liveness_path.clone().expect("a liveness probe");
    let (code, body) = http(([127, 0, 0, 1], port).into(), "GET", &path, &[], b"").unwrap();
    assert_eq!(code, 200, "{path}: {body}");
    assert!(agent.running(), "{}", agent.log());
}

/// Kills fleetctl if the test fails while it still waits.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
