//! Charts from an OCI registry that demands a bearer token (the CNCF
//! distribution registry, Debian's `docker-registry`, with `auth: token`):
//! the hub answers the registry's challenge by asking the token service
//! with the credentials of hub.yaml `render.chartRepositories`; a wrong
//! password is refused clearly and the revision is invalid; with the right
//! one (the password file is read at fetch time) the next commit renders.
//! The token service is a small loopback endpoint in this test that checks
//! the user name and password and issues an ES256 JWT signed by a key whose
//! certificate the registry trusts (`rootcertbundle`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use fleet_tests::agent_support::await_revision;
use fleet_tests::git_fixture::FleetRemote;
use fleet_tests::hub_process::HubProcess;
use fleet_tests::net::free_port;
use fleet_tests::tiny_fleet::{fleet, write};
use fleet_tests::tools::{tool, venv_python, workspace};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(120);
const USER: &str = "fleet";
const PASSWORD: &str = "chart-reader-secret";
const SERVICE: &str = "fleet-test-registry";
const ISSUER: &str = "fleet-test-token-service";

/// The registry on loopback, optionally demanding tokens from `realm`.
struct Registry {
    child: Child,
}

impl Registry {
    fn start(folder: &Path, port: u16, token: Option<(&str, &Path)>) -> Self {
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{port}\n",
            folder.join("data").display()
        );
        if let Some((realm, bundle)) = token {
            config.push_str(&format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    \
                 rootcertbundle: {}\n",
                bundle.display()
            ));
        }
        let file = folder.join("config.yml");
        std::fs::write(&file, config).unwrap();
        let child = Command::new(tool("docker-registry"))
            .arg("serve")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < WAIT, "the registry did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The token service: checks Basic credentials, issues a pull token.
struct TokenService {
    realm: String,
    port: u16,
    stop: Arc<AtomicBool>,
    server: Option<JoinHandle<()>>,
}

impl TokenService {
    fn start(signer: Arc<Signer>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let server = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Ok(stream) = stream {
                        answer_token_request(stream, &signer);
                    }
                }
            })
        };
        Self {
            realm: format!("http://127.0.0.1:{port}/token"),
            port,
            stop,
            server: Some(server),
        }
    }
}

impl Drop for TokenService {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

fn answer_token_request(mut stream: TcpStream, signer: &Signer) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(count) => request.extend_from_slice(&buffer[..count]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let expected = format!(
        "authorization: basic {}",
        STANDARD.encode(format!("{USER}:{PASSWORD}"))
    )
    .to_ascii_lowercase();
    let authorized = request
        .lines()
        .any(|line| line.trim().to_ascii_lowercase() == expected);
    let response = if authorized {
        let body = json!({ "token": signer.pull_token("charts/web") }).to_string();
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    } else {
        "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
    };
    let _ = stream.write_all(response.as_bytes());
}

/// The token signing key and its self-signed certificate (the registry's
/// `rootcertbundle`).
struct Signer {
    key: EcdsaKeyPair,
    certificate_der: Vec<u8>,
    certificate_pem: String,
}

impl Signer {
    fn generate() -> Self {
        let key_pair = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "fleet test token signer");
        let certificate = params.self_signed(&key_pair).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &ring::rand::SystemRandom::new(),
        )
        .unwrap();
        Self {
            key,
            certificate_der: certificate.der().to_vec(),
            certificate_pem: certificate.pem(),
        }
    }

    /// A JWT allowing `pull` of `repository` (header `x5c`: the certificate).
    fn pull_token(&self, repository: &str) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = json!({
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [STANDARD.encode(&self.certificate_der)],
        });
        let claims = json!({
            "iss": ISSUER,
            "sub": USER,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 60,
            "iat": now,
            "jti": format!("token-{now}"),
            "access": [{"type": "repository", "name": repository, "actions": ["pull"]}],
        });
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&ring::rand::SystemRandom::new(), signed.as_bytes())
            .unwrap();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// Packages the chart `web` 1.0.0 and pushes it to `reference`.
fn push_chart(folder: &Path, reference: &str) {
    write(
        folder,
        "web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    write(
        folder,
        "web/templates/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  GREETING: hello\n",
    );
    let output = Command::new(venv_python())
        .arg(workspace().join("ctl/tests/helm/publish.py"))
        .arg(folder.join("web"))
        .arg(folder)
        .arg(reference)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pushing the chart: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_registry_token_is_obtained_with_the_configured_credentials_and_a_wrong_password_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let port = free_port();
    let reference = format!("oci://127.0.0.1:{port}/charts");
    // Pushed while the registry is open, then served with token auth only.
    {
        let _open = Registry::start(folder.path(), port, None);
        push_chart(folder.path(), &reference);
    }
    let signer = Arc::new(Signer::generate());
    let bundle = folder.path().join("token-signer.pem");
    std::fs::write(&bundle, &signer.certificate_pem).unwrap();
    let tokens = TokenService::start(signer.clone());
    let _registry = Registry::start(folder.path(), port, Some((&tokens.realm, &bundle)));
    // Anonymous pulls are refused by this registry.
    let anonymous = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!(
            "http://127.0.0.1:{port}/v2/charts/web/manifests/1.0.0"
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&anonymous.stdout), "401");

    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    fleet(root, &["edge-1"]);
    write(
        root,
        "apps/web/app.yaml",
        &format!(
            "apiVersion: fleet/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  namespace: web\n  \
             helm:\n    chart: web\n    repository: {reference}\n    version: 1.0.0\n"
        ),
    );
    let remote = FleetRemote::with_content(root);
    let first = remote.head();
    let mut hub = HubProcess::init(remote.bare().to_str().unwrap(), "1h");
    let password_file = hub.directory.path().join("registry-password");
    std::fs::write(&password_file, "not-the-password\n").unwrap();
    hub.set_setting(
        "chartRepositories",
        &format!(
            "[{{repository: \"{reference}\", username: {USER}, passwordFile: \"{}\"}}]",
            password_file.display()
        ),
    );
    hub.start();

    // A wrong password: the token service refuses it; nothing renders.
    let row = await_revision(&hub, &first, false, WAIT);
    assert_eq!(row["valid"], false, "{row}");
    let errors = row["errors"].to_string();
    assert!(
        errors.contains(&format!(
            "apps/web/app.yaml:9: fetching chart web 1.0.0: {}?service={SERVICE}&scope=repository:charts/web:pull: HTTP 401 (cluster edge-1, app web)",
            tokens.realm
        )),
        "{errors}"
    );
    assert!(
        errors.contains(&format!("{}?service={SERVICE}", tokens.realm)),
        "{errors}"
    );
    assert!(errors.contains("HTTP 401"), "{errors}");

    // The right password (read at fetch time): the next commit renders,
    // with the chart's digest recorded.
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    remote.write(
        "environments/dev.yaml",
        "apiVersion: fleet/v1alpha1\nkind: Environment\nmetadata:\n  name: dev\nspec:\n  vars:\n    replicas: 2\n",
    );
    let second = remote.commit_and_push("dev: two replicas");
    let row = await_revision(&hub, &second, true, WAIT);
    assert_eq!(row["valid"], true, "{row}");
    assert_eq!(row["charts"][0]["repository"], reference.as_str(), "{row}");
    assert_eq!(row["charts"][0]["chart"], "web", "{row}");
}
