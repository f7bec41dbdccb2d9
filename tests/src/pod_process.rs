//! A workspace binary started the way a Deployment's pod template declares
//! its container: the container's `args` and `env` exactly (env values from
//! `secretKeyRef` resolved from the Secret read back from the API), and each
//! volume materialised as files at its `mountPath` rewritten under a
//! temporary root directory (`/etc/x` becomes `<root>/etc/x`; a Secret volume
//! holds one file per key, an `emptyDir` is an empty directory).
//!
//! Every argument that is an absolute path must lie under some volume mount
//! — the container's root filesystem holds only the binary — and is
//! rewritten the same way; one that does not panics, so a mount path that
//! drifts from the flags fails the test. The `--listen` address is the one
//! other rewrite: its port must be the container port the liveness probe
//! names, and it moves to a free loopback port (a pod has its own network
//! namespace; a test does not).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use base64::Engine as _;
use serde_json::Value;

use crate::net::free_port;

/// The running process and the directory its volumes live in.
pub struct PodProcess {
    /// The temporary root the mount paths are rewritten under.
    pub root: tempfile::TempDir,
    /// The loopback port `--listen` was moved to (`None`: no `--listen`).
    pub listen_port: Option<u16>,
    /// The probe path of the container's liveness probe, if any.
    pub liveness_path: Option<String>,
    /// The arguments the process was started with (after the rewrites).
    pub arguments: Vec<String>,
    child: Option<Child>,
}

impl PodProcess {
    /// Starts `program` as the first container of `deployment`'s pod
    /// template declares it, with `secrets` (by name, as read from the API)
    /// for Secret volumes and `secretKeyRef`s, and `extra_env` added (what a
    /// pod gets from its environment rather than its spec, such as the
    /// in-cluster API configuration).
    pub fn start(
        program: &Path,
        deployment: &Value,
        secrets: &BTreeMap<String, Value>,
        extra_env: &[(&str, &str)],
    ) -> Self {
        let pod = &deployment["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        assert!(
            container.get("command").is_none(),
            "the container sets `command` {}; the image's ENTRYPOINT is the binary",
            container["command"]
        );
        let root = tempfile::tempdir().unwrap();
        let mounts = materialise_volumes(root.path(), pod, container, secrets);
        let (arguments, listen_port) = rewrite_arguments(container, &mounts);
        let mut command = Command::new(program);
        command.args(&arguments).env_clear();
        for (name, value) in declared_env(container, secrets) {
            command.env(name, value);
        }
        for (name, value) in extra_env {
            command.env(name, value);
        }
        let log = std::fs::File::create(root.path().join("process.log")).unwrap();
        let child = command.stdout(Stdio::null()).stderr(log).spawn().unwrap();
        Self {
            root,
            listen_port,
            liveness_path: container["livenessProbe"]["httpGet"]["path"]
                .as_str()
                .map(str::to_owned),
            arguments,
            child: Some(child),
        }
    }

    /// What the process wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("process.log")).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }
}

impl Drop for PodProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One mounted volume: its path in the container and on this machine.
struct Mount {
    container_path: String,
    local_path: PathBuf,
}

fn materialise_volumes(
    root: &Path,
    pod: &Value,
    container: &Value,
    secrets: &BTreeMap<String, Value>,
) -> Vec<Mount> {
    let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
    let mut mounts = Vec::new();
    for mount in container["volumeMounts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let name = mount["name"].as_str().unwrap();
        let container_path = mount["mountPath"].as_str().unwrap().to_owned();
        assert!(
            container_path.starts_with('/'),
            "mountPath {container_path:?} is not absolute"
        );
        let volume = volumes
            .iter()
            .find(|volume| volume["name"] == name)
            .unwrap_or_else(|| panic!("volumeMount {name:?} names no volume in the pod"));
        let local_path = root.join(container_path.trim_start_matches('/'));
        std::fs::create_dir_all(&local_path).unwrap();
        if let Some(secret_volume) = volume.get("secret") {
            let secret_name = secret_volume["secretName"].as_str().unwrap();
            // An optional Secret that does not exist mounts as an empty
            // folder, as the kubelet does.
            let optional = secret_volume["optional"] == true;
            let Some(secret) = secrets.get(secret_name) else {
                assert!(
                    optional,
                    "volume {name:?} mounts Secret {secret_name:?}, which the install did not create"
                );
                mounts.push(Mount {
                    container_path,
                    local_path,
                });
                continue;
            };
            let items = secret_volume["items"].as_array().cloned();
            for (key, value) in secret["data"].as_object().cloned().unwrap_or_default() {
                // `items` picks keys and names their files.
                let path = match &items {
                    None => Some(key.clone()),
                    Some(items) => items
                        .iter()
                        .find(|item| item["key"] == key.as_str())
                        .map(|item| item["path"].as_str().unwrap().to_owned()),
                };
                if let Some(path) = path {
                    std::fs::write(local_path.join(path), decode(&value)).unwrap();
                }
            }
        } else {
            assert!(
                volume.get("emptyDir").is_some(),
                "volume {name:?} is neither a Secret nor an emptyDir: {volume}"
            );
        }
        mounts.push(Mount {
            container_path,
            local_path,
        });
    }
    mounts
}

fn rewrite_arguments(container: &Value, mounts: &[Mount]) -> (Vec<String>, Option<u16>) {
    let declared: Vec<String> = container["args"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|argument| argument.as_str().unwrap().to_owned())
        .collect();
    let mut arguments = Vec::new();
    let mut listen_port = None;
    let mut previous = String::new();
    for argument in declared {
        let rewritten = if previous == "--listen" {
            let declared_port: u16 = argument
                .rsplit_once(':')
                .and_then(|(_, port)| port.parse().ok())
                .unwrap_or_else(|| panic!("--listen {argument:?} has no port"));
            assert_eq!(
                declared_port,
                probe_port(container),
                "--listen {argument} is not the port the liveness probe checks"
            );
            let port = free_port();
            listen_port = Some(port);
            format!("127.0.0.1:{port}")
        } else if argument.starts_with('/') {
            let mount = mounts
                .iter()
                .find(|mount| {
                    Path::new(&argument).starts_with(&mount.container_path)
                })
                .unwrap_or_else(|| {
                    panic!(
                        "argument {argument:?} is a path outside every volume mount: the container cannot see it"
                    )
                });
            let relative = Path::new(&argument)
                .strip_prefix(&mount.container_path)
                .unwrap();
            mount.local_path.join(relative).display().to_string()
        } else {
            argument.clone()
        };
        previous = argument;
        arguments.push(rewritten);
    }
    (arguments, listen_port)
}

/// The container port the liveness probe names (by name or number).
fn probe_port(container: &Value) -> u16 {
    let port = &container["livenessProbe"]["httpGet"]["port"];
    if let Some(number) = port.as_u64() {
        return u16::try_from(number).unwrap();
    }
    let name = port
        .as_str()
        .unwrap_or_else(|| panic!("the liveness probe names no port: {container}"));
    container["ports"]
        .as_array()
        .and_then(|ports| ports.iter().find(|port| port["name"] == name))
        .and_then(|port| port["containerPort"].as_u64())
        .map(|number| u16::try_from(number).unwrap())
        .unwrap_or_else(|| panic!("the liveness probe's port {name:?} is not a container port"))
}

fn declared_env(container: &Value, secrets: &BTreeMap<String, Value>) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for variable in container["env"].as_array().cloned().unwrap_or_default() {
        let name = variable["name"].as_str().unwrap().to_owned();
        if let Some(value) = variable["value"].as_str() {
            env.push((name, value.to_owned()));
            continue;
        }
        let reference = &variable["valueFrom"]["secretKeyRef"];
        let secret_name = reference["name"]
            .as_str()
            .unwrap_or_else(|| panic!("env {name} is neither a value nor a secretKeyRef"));
        let key = reference["key"].as_str().unwrap();
        let value = secrets
            .get(secret_name)
            .map(|secret| &secret["data"][key])
            .filter(|value| value.is_string());
        match value {
            Some(value) => env.push((name, String::from_utf8(decode(value)).unwrap())),
            None => assert!(
                reference["optional"] == true,
                "env {name} needs key {key:?} of Secret {secret_name:?}, which does not exist"
            ),
        }
    }
    env
}

fn decode(value: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(value.as_str().unwrap())
        .unwrap()
}
