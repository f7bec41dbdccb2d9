//! A Helm chart repository on loopback (`index.yaml` and `.tgz` archives
//! over HTTP/1.1 or HTTPS, one request per connection) that counts the
//! requests it answers; [`TestCa`], a CA made for one test that signs the
//! HTTPS repository's certificate; and `package`, which makes a chart
//! archive with the `tar` CLI (a `.tgz` of the chart folder, as `helm
//! package` writes it).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

#[derive(Default)]
struct Served {
    files: HashMap<String, Vec<u8>>,
    requests: HashMap<String, usize>,
}

/// A chart repository at `http://127.0.0.1:<port>/charts`.
pub struct ChartRepository {
    /// The repository URL (what app.yaml's `spec.helm.repository` names).
    pub url: String,
    address: SocketAddr,
    served: Arc<Mutex<Served>>,
    charts: Mutex<Vec<(String, String, String)>>,
    stop: Arc<AtomicBool>,
    server: Option<JoinHandle<()>>,
}

impl ChartRepository {
    /// Starts serving an empty repository over plain HTTP.
    pub fn start() -> Self {
        Self::serve_with(None)
    }

    /// Starts serving an empty repository over HTTPS, with a certificate
    /// for 127.0.0.1 signed by `ca`.
    pub fn start_tls(ca: &TestCa) -> Self {
        Self::serve_with(Some(ca.server_config()))
    }

    fn serve_with(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let served: Arc<Mutex<Served>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let server = {
            let (served, stop) = (served.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let timeout = Some(std::time::Duration::from_secs(10));
                    let _ = stream.set_read_timeout(timeout);
                    let _ = stream.set_write_timeout(timeout);
                    match &tls {
                        None => answer(stream, &served),
                        Some(config) => {
                            let Ok(connection) = rustls::ServerConnection::new(config.clone())
                            else {
                                continue;
                            };
                            let mut stream = rustls::StreamOwned::new(connection, stream);
                            answer(&mut stream, &served);
                            stream.conn.send_close_notify();
                            let _ = stream.flush();
                        }
                    }
                }
            })
        };
        Self {
            url: format!("{scheme}://{address}/charts"),
            address,
            served,
            charts: Mutex::default(),
            stop,
            server: Some(server),
        }
    }

    /// Serves `archive` as `chart` `version` (replacing what was served
    /// for that version: the upstream changed), the index announcing its
    /// sha256. Returns `sha256:<hex>`.
    pub fn serve(&self, chart: &str, version: &str, archive: &[u8]) -> String {
        let hex = hex::encode(Sha256::digest(archive));
        let mut charts = self.charts.lock().unwrap();
        charts.retain(|(name, known, _)| !(name == chart && known == version));
        charts.push((chart.to_owned(), version.to_owned(), hex.clone()));
        let mut index = String::from("apiVersion: v1\nentries:\n");
        let mut names: Vec<&String> = charts.iter().map(|(name, _, _)| name).collect();
        names.sort();
        names.dedup();
        for name in names {
            index.push_str(&format!("  {name}:\n"));
            for (_, version, digest) in charts.iter().filter(|(known, _, _)| known == name) {
                index.push_str(&format!(
                    "    - name: {name}\n      version: {version}\n      digest: \"{digest}\"\n      \
                     urls:\n        - {name}-{version}.tgz\n"
                ));
            }
        }
        let mut served = self.served.lock().unwrap();
        served
            .files
            .insert("/charts/index.yaml".into(), index.into_bytes());
        served
            .files
            .insert(format!("/charts/{chart}-{version}.tgz"), archive.to_vec());
        format!("sha256:{hex}")
    }

    /// How many requests for `path` (e.g. `/charts/index.yaml`) were answered.
    pub fn requests(&self, path: &str) -> usize {
        self.served
            .lock()
            .unwrap()
            .requests
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for ChartRepository {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.address);
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

fn answer(mut stream: impl Read + Write, served: &Mutex<Served>) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(count) => request.extend_from_slice(&buffer[..count]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let body = {
        let mut served = served.lock().unwrap();
        *served.requests.entry(path.clone()).or_default() += 1;
        served.files.get(&path).cloned()
    };
    let response = match body {
        Some(body) => {
            let mut response = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            response.extend_from_slice(&body);
            response
        }
        None => {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
    };
    let _ = stream.write_all(&response);
}

/// The `.tgz` of the chart folder `chart` (its files under `<folder name>/`).
pub fn package(chart: &Path) -> Vec<u8> {
    let archive = tempfile::NamedTempFile::new().unwrap();
    let output = Command::new("tar")
        .arg("czf")
        .arg(archive.path())
        .arg("-C")
        .arg(chart.parent().unwrap())
        .arg(chart.file_name().unwrap())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "tar: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read(archive.path()).unwrap()
}

/// A CA made for one test, and a server certificate for 127.0.0.1 it signed.
pub struct TestCa {
    /// The CA certificate, PEM (what a client is told to trust).
    pub ca_pem: String,
    server_certificate: rustls::pki_types::CertificateDer<'static>,
    server_key: Vec<u8>,
}

impl TestCa {
    /// A new CA (named `name`) and its server certificate.
    pub fn generate(name: &str) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.distinguished_name.push(DnType::CommonName, name);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().unwrap();
        let mut server_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        server_params.subject_alt_names =
            vec![SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1]))];
        let server = server_params.signed_by(&server_key, &issuer).unwrap();
        Self {
            ca_pem,
            server_certificate: server.der().clone(),
            server_key: server_key.serialize_der(),
        }
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(self.server_key.clone()),
        );
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![self.server_certificate.clone()], key)
                .unwrap(),
        )
    }
}
